# Test harness: runs one script against one lab host, the way the broker's lab transport does, and
# prints one JSON document. Input comes base64-encoded in RDPFIX_TEST_REQUEST (never as script text).
param()
$ErrorActionPreference = 'Stop'
$req = [Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($env:RDPFIX_TEST_REQUEST)) | ConvertFrom-Json -DateKind String # ps51-ok: controller-side test harness, runs on pwsh 7 only
Import-Module $req.labModule -DisableNameChecking
$result = [ordered]@{ output = @(); error = $null; warnings = @(); errors = @() }
Enter-LabHost -StatePath $req.statePath
try {
    $sb = [scriptblock]::Create($req.script)
    $argList = @($req.args)
    $out = & {
        $ErrorActionPreference = 'Stop'
        & $sb @argList
    } 3>&1 2>&1
    foreach ($o in @($out)) {
        if ($o -is [System.Management.Automation.WarningRecord]) { $result.warnings += $o.Message }
        elseif ($o -is [System.Management.Automation.ErrorRecord]) { $result.errors += [ordered]@{ message = $o.ToString(); fqid = $o.FullyQualifiedErrorId; category = $o.CategoryInfo.Category.ToString() } }
        else { $result.output += , $o }
    }
} catch {
    $result.error = [ordered]@{ message = $_.ToString(); fqid = $_.FullyQualifiedErrorId; category = $_.CategoryInfo.Category.ToString(); exceptionType = $_.Exception.GetType().FullName }
} finally {
    Exit-LabHost
}
[Console]::Out.Write([Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes(($result | ConvertTo-Json -Depth 12 -Compress))))
