; Tailbox's Windows installer: per user (no administrator rights), a start-menu entry,
; optional start at login, and an uninstaller that keeps the user's settings unless
; asked to remove them.
;
; installers/build.py compiles it on Windows after the PyInstaller build:
;   makensis -DVERSION=0.1.0 -DVIVERSION=0.1.0.0 -DPAYLOAD=dist\tailbox
;            -DOUTFILE=dist\tailbox-0.1.0-setup.exe [-DICON=tailbox.ico] tailbox.nsi
; PAYLOAD is PyInstaller's onedir folder: tailbox.exe, tailbox-debug.exe, _internal\.
;
; Silent use: `setup.exe /S [/D=dir]`; `uninstall.exe /S [/REMOVECONFIG]`.

Unicode true
!include "MUI2.nsh"
!include "FileFunc.nsh"
!include "LogicLib.nsh"
!include "Sections.nsh"

!ifndef VERSION | VIVERSION | PAYLOAD | OUTFILE
  !error "define VERSION, VIVERSION, PAYLOAD and OUTFILE (installers/build.py does)"
!endif

!define APP "Tailbox"
!define PUBLISHER "The Tailbox authors"
!define APP_KEY "Software\Tailbox"
!define UNINSTALL_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\Tailbox"
; The same key and value name as gui/autostart.py, so the window's "Start at login"
; switch and this installer's option are one setting.
!define RUN_KEY "Software\Microsoft\Windows\CurrentVersion\Run"
!define RUN_VALUE "Tailbox"
; platformdirs' user_config_dir and user_state_dir for "tailbox" on Windows: the
; pipelines, window.ini and the checkpoints.
!define USER_DATA "$LOCALAPPDATA\tailbox"

Name "${APP}"
OutFile "${OUTFILE}"
InstallDir "$LOCALAPPDATA\Programs\Tailbox"
InstallDirRegKey HKCU "${APP_KEY}" "InstallDir"
RequestExecutionLevel user
SetCompressor /SOLID lzma
ManifestDPIAware true
BrandingText "${APP} ${VERSION}"

!ifdef ICON
  !define MUI_ICON "${ICON}"
  !define MUI_UNICON "${ICON}"
!endif
!define MUI_ABORTWARNING
!define MUI_COMPONENTSPAGE_NODESC
!define MUI_FINISHPAGE_RUN "$INSTDIR\tailbox.exe"
!define MUI_FINISHPAGE_RUN_TEXT "Start Tailbox now"

!insertmacro MUI_PAGE_WELCOME
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_COMPONENTS
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH

!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_COMPONENTS
!insertmacro MUI_UNPAGE_INSTFILES

!insertmacro MUI_LANGUAGE "English"

VIProductVersion "${VIVERSION}"
VIFileVersion "${VIVERSION}"
VIAddVersionKey /LANG=${LANG_ENGLISH} "ProductName" "${APP}"
VIAddVersionKey /LANG=${LANG_ENGLISH} "ProductVersion" "${VERSION}"
VIAddVersionKey /LANG=${LANG_ENGLISH} "FileVersion" "${VERSION}"
VIAddVersionKey /LANG=${LANG_ENGLISH} "FileDescription" "${APP} ${VERSION} setup"
VIAddVersionKey /LANG=${LANG_ENGLISH} "CompanyName" "${PUBLISHER}"
VIAddVersionKey /LANG=${LANG_ENGLISH} "LegalCopyright" "Licensed under the Apache License 2.0"

Section "Tailbox" SecApp
  SectionIn RO
  SetOutPath "$INSTDIR"
  ; An upgrade replaces the bundled libraries wholesale: stale ones must not linger.
  RMDir /r "$INSTDIR\_internal"
  File /r "${PAYLOAD}\*"
  WriteUninstaller "$INSTDIR\uninstall.exe"
  CreateShortcut "$SMPROGRAMS\Tailbox.lnk" "$INSTDIR\tailbox.exe"

  WriteRegStr HKCU "${APP_KEY}" "InstallDir" "$INSTDIR"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayName" "${APP}"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "Publisher" "${PUBLISHER}"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayIcon" "$INSTDIR\tailbox.exe"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegStr HKCU "${UNINSTALL_KEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /S'
  WriteRegDWORD HKCU "${UNINSTALL_KEY}" "NoModify" 1
  WriteRegDWORD HKCU "${UNINSTALL_KEY}" "NoRepair" 1
  ${GetSize} "$INSTDIR" "/S=0K" $0 $1 $2
  IntFmt $0 "0x%08X" $0
  WriteRegDWORD HKCU "${UNINSTALL_KEY}" "EstimatedSize" "$0"
SectionEnd

Section /o "Start Tailbox when I log in" SecAutostart
  WriteRegStr HKCU "${RUN_KEY}" "${RUN_VALUE}" '"$INSTDIR\tailbox.exe"'
SectionEnd

Section "-ApplyAutostartChoice"
  ${IfNot} ${SectionIsSelected} ${SecAutostart}
    DeleteRegValue HKCU "${RUN_KEY}" "${RUN_VALUE}"
  ${EndIf}
SectionEnd

Function .onInit
  ; An upgrade keeps the choice made earlier (here or in the window).
  ClearErrors
  ReadRegStr $0 HKCU "${RUN_KEY}" "${RUN_VALUE}"
  ${IfNot} ${Errors}
    !insertmacro SelectSection ${SecAutostart}
  ${EndIf}
FunctionEnd

Section "un.Tailbox" UnSecApp
  SectionIn RO
  Delete "$SMPROGRAMS\Tailbox.lnk"
  DeleteRegValue HKCU "${RUN_KEY}" "${RUN_VALUE}"
  ; Only what the installer put there: the folder may have been chosen by the user.
  RMDir /r "$INSTDIR\_internal"
  Delete "$INSTDIR\tailbox.exe"
  Delete "$INSTDIR\tailbox-debug.exe"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"
  DeleteRegKey HKCU "${UNINSTALL_KEY}"
  DeleteRegKey HKCU "${APP_KEY}"
SectionEnd

Section /o "un.Also remove my pipelines, settings and checkpoints" UnSecUserData
  RMDir /r "${USER_DATA}"
SectionEnd

Function un.onInit
  ${GetParameters} $0
  ClearErrors
  ${GetOptions} $0 "/REMOVECONFIG" $1
  ${IfNot} ${Errors}
    !insertmacro SelectSection ${UnSecUserData}
  ${EndIf}
FunctionEnd
