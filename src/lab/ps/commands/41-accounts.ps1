# Well-known accounts: Win32_SystemAccount and local Win32_Group instances, and the host's display language
# (Get-UICulture). SIDs are fixed on every Windows; names follow the display language, so scripts must use SIDs.

# Which class each well-known SID is an instance of; names come from the host's language (Get-LabSidName).
$script:LabWellKnownAccounts = @(
    @{ SID = 'S-1-5-18'; Class = 'Win32_SystemAccount'; SIDType = 5 },
    @{ SID = 'S-1-5-19'; Class = 'Win32_SystemAccount'; SIDType = 5 },
    @{ SID = 'S-1-5-20'; Class = 'Win32_SystemAccount'; SIDType = 5 },
    @{ SID = 'S-1-5-32-544'; Class = 'Win32_Group'; SIDType = 4 },
    @{ SID = 'S-1-5-32-545'; Class = 'Win32_Group'; SIDType = 4 },
    @{ SID = 'S-1-5-32-555'; Class = 'Win32_Group'; SIDType = 4 }
)

function Get-LabCimAccounts {
    param([string]$Class)
    $computer = [string](Get-LabState).computerName
    foreach ($a in $script:LabWellKnownAccounts | Where-Object { $_.Class -eq $Class }) {
        $full = [string](Get-LabSidName $a.SID)
        $name = $full.Split('\')[-1]
        # Win32_Group's Domain for BUILTIN groups is the computer name (LocalAccount TRUE).
        $domain = $full.Split('\')[0]
        if ($Class -eq 'Win32_Group') { $domain = $computer }
        [ordered]@{ Name = $name; Domain = $domain; Caption = "$domain\$name"; SID = $a.SID; SIDType = [byte]$a.SIDType; LocalAccount = $true; Status = 'OK' }
    }
}

function Get-UICulture {
    <# The host's display language, not the controller's; a locale the lab has no model of is refused (Get-LabLocale). #>
    [System.Globalization.CultureInfo]::GetCultureInfo((Get-LabLocale -Name))
}
