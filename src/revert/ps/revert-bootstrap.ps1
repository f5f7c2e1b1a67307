# The revert task's command: powershell.exe -EncodedCommand of this text (comment lines removed), so that no execution
# policy applies (a group policy's AllSigned or Restricted outranks -ExecutionPolicy Bypass -File; a command is not a
# script file). Fixed text, no data: the task starts in its own folder (the action's working directory), and the runner
# there reads everything else from the files beside it. Kept short: the task's argument string stays under 480
# characters (docs/windows-facts/network-firewall-sessions-tasks.md).
$d = (Get-Location).ProviderPath; & ([scriptblock]::Create((Get-Content -LiteralPath "$d\revert.ps1" -Raw -Encoding UTF8))) -TaskDir $d
