# Well-known accounts: Win32_SystemAccount and local Win32_Group instances, and the host's display language
# (Get-UICulture). SIDs are fixed on every Windows; names follow the display language, so scripts must use SIDs.
# Get-LabAccountName is the one place the lab names an account by SID.

$script:LabWellKnownAccounts = @(
    @{ SID = 'S-1-5-18'; Name = 'SYSTEM'; Domain = 'NT AUTHORITY'; Class = 'Win32_SystemAccount'; SIDType = 5 },
    @{ SID = 'S-1-5-19'; Name = 'LOCAL SERVICE'; Domain = 'NT AUTHORITY'; Class = 'Win32_SystemAccount'; SIDType = 5 },
    @{ SID = 'S-1-5-20'; Name = 'NETWORK SERVICE'; Domain = 'NT AUTHORITY'; Class = 'Win32_SystemAccount'; SIDType = 5 },
    @{ SID = 'S-1-5-32-544'; Name = 'Administrators'; Domain = 'BUILTIN'; Class = 'Win32_Group'; SIDType = 4 },
    @{ SID = 'S-1-5-32-545'; Name = 'Users'; Domain = 'BUILTIN'; Class = 'Win32_Group'; SIDType = 4 },
    @{ SID = 'S-1-5-32-555'; Name = 'Remote Desktop Users'; Domain = 'BUILTIN'; Class = 'Win32_Group'; SIDType = 4 }
)

function Get-LabAccountName {
    <# The name this host gives a well-known SID (its display language's), or $null. #>
    param([string]$Sid)
    foreach ($a in $script:LabWellKnownAccounts) { if ($a.SID -eq $Sid) { return $a.Name } }
    return $null
}

function Get-LabHostLocale {
    $loc = [string](Get-LabState).locale
    if (-not $loc) { $loc = 'en-US' }
    $loc
}

function Get-LabCimAccounts {
    param([string]$Class)
    $computer = [string](Get-LabState).computerName
    foreach ($a in $script:LabWellKnownAccounts | Where-Object { $_.Class -eq $Class }) {
        $name = Get-LabAccountName $a.SID
        # Win32_Group's Domain for BUILTIN groups is the computer name (LocalAccount TRUE).
        $domain = $a.Domain
        if ($Class -eq 'Win32_Group') { $domain = $computer }
        [ordered]@{ Name = $name; Domain = $domain; Caption = "$domain\$name"; SID = $a.SID; SIDType = [byte]$a.SIDType; LocalAccount = $true; Status = 'OK' }
    }
}

function Get-UICulture {
    <# The host's display language, not the controller's. #>
    [System.Globalization.CultureInfo]::GetCultureInfo((Get-LabHostLocale))
}
