<#
.SYNOPSIS
  Registers mqtt-iot-listener as a Windows scheduled task (at boot, whether a user is logged on
  or not, restarted every minute after a failure, no run-time limit), from
  mqtt-iot-listener-task.xml with your paths and flags filled in.

.DESCRIPTION
  Run in an elevated PowerShell ("Run as administrator") from the listener's folder, e.g.
    powershell -ExecutionPolicy Bypass -File deploy\windows\install-task.ps1 -DataDir C:\ECC -StartNow
  Coming from the original Python listener: pass its flags unchanged with -Arguments, use its
  folder as -DataDir (same files, same database), and name its task with -DisableOldTask.
  The flags are checked with `check-config` before anything is registered.

.EXAMPLE
  .\install-task.ps1 -DataDir C:\ECC -Arguments '-db C:\ECC\ECCTempHum.sqlite3 -log C:\ECC\ECCMQTTIoT.log -b 192.168.1.10 -t 20' -DisableOldTask 'ECC MQTT Listener' -StartNow
#>
[CmdletBinding()]
param(
  # Folder of the original listener's files; the task's working directory (relative names resolve here).
  [string]$DataDir = 'C:\ECC',
  # The listener's flags (the original's spellings work).
  [string]$Arguments = "-db $DataDir\ECCTempHum.sqlite3 -log $DataDir\ECCMQTTIoT.log -c $DataDir\ECCMQTTIoT_Credentials.txt -b 127.0.0.1 --log-level info --no-console",
  # Where mqtt-iot-listener is installed (built with: npm ci; npm run build).
  [string]$InstallDir = (Resolve-Path (Join-Path $PSScriptRoot '..\..')).Path,
  # node.exe to run it with.
  [string]$Node = '',
  [string]$TaskName = 'mqtt-iot-listener',
  # Run as this account (asks for its password) instead of SYSTEM, e.g. the one the old task used.
  [string]$User = '',
  # Restarts after a failure, one minute apart.
  [ValidateRange(1, 255)][int]$RestartCount = 60,
  # The original listener's scheduled task: stopped and disabled once the new one is registered.
  [string]$DisableOldTask = '',
  # Start the task right away instead of at the next boot.
  [switch]$StartNow
)
$ErrorActionPreference = 'Stop'

if (-not $Node) {
  $found = Get-Command node.exe -ErrorAction SilentlyContinue
  $Node = if ($found) { $found.Source } else { Join-Path $env:ProgramFiles 'nodejs\node.exe' }
}
if (-not (Test-Path -LiteralPath $Node)) { throw "node.exe not found at $Node; install Node.js 20 or newer, or pass -Node" }
$bin = Join-Path $InstallDir 'bin\mqtt-iot-listener.js'
if (-not (Test-Path -LiteralPath $bin)) { throw "$bin not found; pass -InstallDir" }
if (-not (Test-Path -LiteralPath (Join-Path $InstallDir 'dist\src\cli.js'))) { throw "not built yet: run 'npm ci' and 'npm run build' in $InstallDir" }
if (-not (Test-Path -LiteralPath $DataDir)) { New-Item -ItemType Directory -Path $DataDir | Out-Null }

$admin = ([Security.Principal.WindowsPrincipal][Security.Principal.WindowsIdentity]::GetCurrent()).IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)
if (-not $admin) { throw 'run this from an elevated PowerShell (Run as administrator)' }

# The same command line the task will run, checked first: a bad flag or file stops here (exit 2).
$commandLine = "`"$bin`" $Arguments"
Write-Host "checking: `"$Node`" $commandLine check-config"
$check = Start-Process -FilePath $Node -ArgumentList "$commandLine check-config" -WorkingDirectory $DataDir -NoNewWindow -Wait -PassThru
if ($check.ExitCode -ne 0) { throw "the flags do not work (check-config exited $($check.ExitCode)); fix them and run this again" }

[xml]$task = Get-Content -Raw -LiteralPath (Join-Path $PSScriptRoot 'mqtt-iot-listener-task.xml')
$ns = New-Object System.Xml.XmlNamespaceManager($task.NameTable)
$ns.AddNamespace('t', 'http://schemas.microsoft.com/windows/2004/02/mit/task')
$task.SelectSingleNode('/t:Task/t:RegistrationInfo/t:URI', $ns).InnerText = "\$TaskName"
$task.SelectSingleNode('/t:Task/t:Actions/t:Exec/t:Command', $ns).InnerText = $Node
$task.SelectSingleNode('/t:Task/t:Actions/t:Exec/t:Arguments', $ns).InnerText = $commandLine
$task.SelectSingleNode('/t:Task/t:Actions/t:Exec/t:WorkingDirectory', $ns).InnerText = $DataDir
$task.SelectSingleNode('/t:Task/t:Settings/t:RestartOnFailure/t:Count', $ns).InnerText = [string]$RestartCount

if ($User) {
  # "Run whether user is logged on or not" for an account: Task Scheduler stores its password.
  $principal = $task.SelectSingleNode('/t:Task/t:Principals/t:Principal', $ns)
  $principal.SelectSingleNode('t:UserId', $ns).InnerText = $User
  $logonType = $task.CreateElement('LogonType', $ns.LookupNamespace('t'))
  $logonType.InnerText = 'Password'
  $principal.InsertAfter($logonType, $principal.SelectSingleNode('t:UserId', $ns)) | Out-Null
  $credential = Get-Credential -UserName $User -Message "Password of $User (Task Scheduler needs it to run the task while nobody is logged on)"
  Register-ScheduledTask -TaskName $TaskName -Xml $task.OuterXml -User $User -Password $credential.GetNetworkCredential().Password -Force | Out-Null
} else {
  Register-ScheduledTask -TaskName $TaskName -Xml $task.OuterXml -Force | Out-Null
}
Write-Host "registered scheduled task '$TaskName': `"$Node`" $commandLine (in $DataDir)"

if ($DisableOldTask) {
  # One writer per database: the old listener must not run beside the new one.
  Stop-ScheduledTask -TaskName $DisableOldTask -ErrorAction SilentlyContinue
  Disable-ScheduledTask -TaskName $DisableOldTask | Out-Null
  Write-Host "stopped and disabled the old task '$DisableOldTask'"
}

if ($StartNow) {
  Start-ScheduledTask -TaskName $TaskName
  Start-Sleep -Seconds 3
  $info = Get-ScheduledTaskInfo -TaskName $TaskName
  Write-Host "started; last run result $($info.LastTaskResult) (267009 = running)"
}
Write-Host "check it with: `"$Node`" `"$bin`" -db <your database> status"
