# Lab certificate store (state.certificates) behind the Cert: path shadows (10-paths.ps1 calls
# Invoke-LabCertProvider), Export-/Import-Certificate, and the RDP self-signed certificate the Remote
# Desktop service regenerates on start. Needs 70-filesystem.ps1 (MachineKeys files and ACLs).
# Windows facts and sources: docs/windows-facts/machinekeys-certificates.md.

# Machine keys live under %ProgramData% (Windows' drive, state.systemDrive): CAPI (CSP) keys in Crypto\RSA\MachineKeys,
# CNG (Microsoft Software Key Storage Provider) keys in Crypto\Keys (learn.microsoft.com seccng key-storage-and-retrieval).
function Get-LabMachineKeysDir { return (Get-LabSystemDrive) + '\ProgramData\Microsoft\Crypto\RSA\MachineKeys' }
function Get-LabCngKeysDir { return (Get-LabSystemDrive) + '\ProgramData\Microsoft\Crypto\Keys' }
# HRESULTs .NET Framework's X509Certificate2.PrivateKey getter throws as CryptographicException (winerror.h):
# NTE_BAD_KEYSET 'Keyset does not exist' when the CSP cannot open the key (missing, or the caller's token has no
# read on the key file); NTE_BAD_PROV_TYPE 'Invalid provider type specified.' for a key held by a CNG KSP.
$script:LabNteBadKeyset = [int]0x80090016
# Certificate object -> the stored certificate it was made from (its key link), held no longer than the object.
$script:LabCertKeyLinks = New-Object 'System.Runtime.CompilerServices.ConditionalWeakTable[object,object]'
$script:LabNteBadProvType = [int]0x80090014
$script:LabRdpKeyPrefix = 'f686aace6942fb7f7ceb231212eef4a4'
# SA internal-error doc: NETWORK SERVICE Read, SYSTEM Full control, not inherited; owner an administrator.
$script:LabRdpKeySddl = 'O:BAG:SYD:P(A;;FR;;;NS)(A;;FA;;;SY)'
$script:LabRdpTcpKey = 'HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Control\Terminal Server\WinStations\RDP-Tcp'
$script:LabWinStationsKey = 'HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Control\Terminal Server\WinStations'
# Physical system stores crypt32 knows by a localized name; RemoveCertStore refuses to delete them
# (CertificateProvider.cs, CryptFindLocalizedName). 'Remote Desktop' is not one of them [INFERENCE].
$script:LabSystemStores = @('My', 'Root', 'CA', 'AuthRoot', 'Disallowed', 'TrustedPeople', 'TrustedPublisher', 'Trust', 'SmartCardRoot', 'ClientAuthIssuer', 'AddressBook', 'Request', 'UserDS')

# ---------------------------------------------------------------------------------------------------
# Paths and lookups

function ConvertTo-LabCertPath {
    <# 'Cert:\LocalMachine\Remote Desktop\<thumb>' -> @( 'LocalMachine', 'Remote Desktop', '<thumb>' ). #>
    param([string]$Path)
    $p = $Path -replace '^(Microsoft\.PowerShell\.Security\\)?Certificate::', '' -replace '^[Cc]ert:', ''
    return @($p.Split([char[]]@('\', '/')) | Where-Object { $_ -ne '' -and $_ -ne '.' })
}

function Get-LabCertStoreProperty {
    param([string]$Location, [string]$Store)
    return (Get-LabState).certificates.PSObject.Properties[$Location + '\' + $Store]
}

function Get-LabCertItem {
    <# @{ Kind = root|location|store|cert; Location; Store; Cert } for an existing path, else $null. #>
    param([string]$Path)
    $el = @(ConvertTo-LabCertPath $Path)
    if ($el.Count -eq 0) { return @{ Kind = 'root' } }
    $loc = $null
    foreach ($l in 'CurrentUser', 'LocalMachine') { if ($el[0] -ieq $l) { $loc = $l } }
    if ($null -eq $loc) { return $null }
    if ($el.Count -eq 1) { return @{ Kind = 'location'; Location = $loc } }
    $prop = Get-LabCertStoreProperty $loc $el[1]
    $store = $null
    if ($null -ne $prop) { $store = $prop.Name.Substring($loc.Length + 1) }
    else { foreach ($s in $script:LabSystemStores) { if ($el[1] -ieq $s) { $store = $s } } }
    if ($null -eq $store) { return $null }
    if ($el.Count -eq 2) { return @{ Kind = 'store'; Location = $loc; Store = $store } }
    if ($el.Count -gt 3 -or $null -eq $prop) { return $null }
    foreach ($c in @($prop.Value)) { if ($null -ne $c -and $c.Thumbprint -ieq $el[2]) { return @{ Kind = 'cert'; Location = $loc; Store = $store; Cert = $c } } }
    return $null
}

function Get-LabStoreCerts {
    param([string]$Location, [string]$Store)
    $prop = Get-LabCertStoreProperty $Location $Store
    if ($null -eq $prop) { return @() }
    return @($prop.Value | Where-Object { $null -ne $_ })
}

function Set-LabStoreCerts {
    param([string]$Location, [string]$Store, [object[]]$Certs)
    $all = (Get-LabState).certificates
    $prop = Get-LabCertStoreProperty $Location $Store
    if ($null -ne $prop) { $prop.Value = @($Certs) }
    else { $all | Add-Member -NotePropertyName ($Location + '\' + $Store) -NotePropertyValue @($Certs) }
}

# ---------------------------------------------------------------------------------------------------
# Private keys

function Test-LabCertKeyIsCng {
    param($Cert)
    return ($Cert.PSObject.Properties['KeyStorage'] -and [string]$Cert.KeyStorage -eq 'cng')
}

function Get-LabCertKeyFile {
    param($Cert)
    if (-not $Cert.PSObject.Properties['KeyContainer'] -or [string]::IsNullOrEmpty([string]$Cert.KeyContainer)) { return $null }
    $dir = Get-LabMachineKeysDir
    if (Test-LabCertKeyIsCng $Cert) { $dir = Get-LabCngKeysDir }
    return Get-LabFsItem (Join-LabFsPath $dir ([string]$Cert.KeyContainer))
}

function New-LabCryptoException {
    <# A CryptographicException carrying the HRESULT Windows returns (its message is the system text of that code). #>
    param([int]$HResult, [string]$Message)
    $ex = New-Object System.Security.Cryptography.CryptographicException($Message)
    $ex.GetType().GetProperty('HResult').SetValue($ex, $HResult)
    return $ex
}

function Get-LabCallerPrivateKeyError {
    <# Why .PrivateKey, read in the remoting session (an administrator's token, not SYSTEM or NETWORK SERVICE),
       throws, or $null when it returns the key. The RDP key's documented ACL grants the administrators nothing,
       so on a healthy host this is NTE_BAD_KEYSET; .NET Framework's getter only speaks CAPI, so a CNG key gives
       NTE_BAD_PROV_TYPE whatever its ACL. #>
    param($Cert)
    if (Test-LabCertKeyIsCng $Cert) { return New-LabCryptoException $script:LabNteBadProvType 'Invalid provider type specified.' }
    $item = Get-LabCertKeyFile $Cert
    $denied = New-LabCryptoException $script:LabNteBadKeyset 'Keyset does not exist'
    if ($null -eq $item -or $item.Type -eq 'directory' -or $null -eq $item.Entry) { return $denied }
    # FILE_READ_DATA for the caller's token; a corrupt or empty file cannot be loaded either [INFERENCE: same code].
    if (((Get-LabEffectiveAccess (Get-LabFsSd $item) (Get-LabCallerSids)) -band 0x1) -ne 0x1) { return $denied }
    if (($item.Entry.PSObject.Properties['corrupt'] -and [bool]$item.Entry.corrupt) -or (Get-LabFsBytes $item.Entry).Length -eq 0) { return $denied }
    return $null
}

function Test-LabKeyFileUsable {
    <# The RD service's view of a CAPI machine key: the file exists, is not corrupt, NETWORK SERVICE
       (TermService's account) can read it and SYSTEM has full control (SA internal-error doc). #>
    param($Item)
    if ($null -eq $Item -or $Item.Type -eq 'directory' -or $null -eq $Item.Entry) { return $false }
    if ($Item.Entry.PSObject.Properties['corrupt'] -and [bool]$Item.Entry.corrupt) { return $false }
    # An empty key file holds no key blob: CAPI cannot load it (NTE_BAD_KEYSET) [INFERENCE].
    if ((Get-LabFsBytes $Item.Entry).Length -eq 0) { return $false }
    $sd = Get-LabFsSd $Item
    $ns = Get-LabEffectiveAccess $sd (Get-LabServiceSids 'NETWORK SERVICE')
    $sy = Get-LabEffectiveAccess $sd (Get-LabServiceSids 'SYSTEM')
    return ((($ns -band 0x120089) -eq 0x120089) -and (($sy -band 0x1F01FF) -eq 0x1F01FF))
}

function Test-LabCertKeyReadable {
    param($Cert)
    if (-not [bool]$Cert.HasPrivateKey) { return $false }
    return (Test-LabKeyFileUsable (Get-LabCertKeyFile $Cert))
}

function Test-LabCertInDate {
    param($Cert)
    $now = (Get-LabUtcNow)
    return ((ConvertTo-LabLocalTime ([string]$Cert.NotBefore)).ToUniversalTime() -le $now -and (ConvertTo-LabLocalTime ([string]$Cert.NotAfter)).ToUniversalTime() -ge $now)
}

# ---------------------------------------------------------------------------------------------------
# Output objects

function New-LabPrivateKeyObject {
    <# RSACryptoServiceProvider-shaped; CAPI key (mimikatz sample: 'Microsoft Enhanced Cryptographic Provider v1.0'). #>
    param($Cert)
    $container = 'TSSecKeySet1'
    if (-not ([string]$Cert.KeyContainer).StartsWith($script:LabRdpKeyPrefix)) { $container = [string]$Cert.KeyContainer }
    $info = [pscustomobject]@{
        MachineKeyStore = $true; ProviderName = 'Microsoft Enhanced Cryptographic Provider v1.0'; ProviderType = 24
        KeyContainerName = $container; UniqueKeyContainerName = [string]$Cert.KeyContainer
        KeyNumber = 'Exchange'; Exportable = $false; HardwareDevice = $false; Removable = $false; Accessible = $true; Protected = $false; RandomlyGenerated = $false
    }
    $info.PSObject.TypeNames.Insert(0, 'System.Security.Cryptography.CspKeyContainerInfo')
    $k = [pscustomobject]@{ PublicOnly = $false; CspKeyContainerInfo = $info; KeySize = 2048; PersistKeyInCsp = $true; KeyExchangeAlgorithm = 'RSA-PKCS1-KeyEx'; SignatureAlgorithm = 'http://www.w3.org/2000/09/xmldsig#rsa-sha1' }
    $k.PSObject.TypeNames.Insert(0, 'System.Security.Cryptography.RSA')
    $k.PSObject.TypeNames.Insert(0, 'System.Security.Cryptography.RSACryptoServiceProvider')
    return $k
}

function New-LabCertObject {
    <# X509Certificate2-shaped. PrivateKey: a getter evaluated as the caller (see Get-LabCallerPrivateKeyError):
       $null without a key, the key object, or a thrown CryptographicException, as .NET Framework 4.x does. #>
    param($Cert, [string]$Location, [string]$Store)
    $parent = 'Microsoft.PowerShell.Security\Certificate::' + $Location + '\' + $Store
    $cn = ([string]$Cert.Subject -replace '^CN=', '').Split(',')[0]
    $o = [pscustomobject][ordered]@{
        PSPath = $parent + '\' + $Cert.Thumbprint
        PSParentPath = $parent
        PSChildName = [string]$Cert.Thumbprint
        PSDrive = 'Cert'
        PSProvider = 'Microsoft.PowerShell.Security\Certificate'
        PSIsContainer = $false
        EnhancedKeyUsageList = @('Server Authentication (1.3.6.1.5.5.7.3.1)')
        DnsNameList = @($cn)
        SendAsTrustedIssuer = $false
        Archived = $false
        FriendlyName = [string]$Cert.FriendlyName
        IssuerName = [string]$Cert.Issuer
        NotAfter = ConvertTo-LabLocalTime ([string]$Cert.NotAfter)
        NotBefore = ConvertTo-LabLocalTime ([string]$Cert.NotBefore)
        HasPrivateKey = [bool]$Cert.HasPrivateKey
        SerialNumber = [string]$Cert.SerialNumber
        SubjectName = [string]$Cert.Subject
        Thumbprint = [string]$Cert.Thumbprint
        Version = 3
        Issuer = [string]$Cert.Issuer
        Subject = [string]$Cert.Subject
    }
    $o.PSObject.TypeNames.Insert(0, 'System.Security.Cryptography.X509Certificates.X509Certificate')
    $o.PSObject.TypeNames.Insert(0, 'System.Security.Cryptography.X509Certificates.X509Certificate2')
    # Like an X509Certificate2, the object keeps its key link (CERT_KEY_PROV_INFO) wherever the certificate goes
    # afterwards; the key file is opened when the getter runs, in the lab module's scope. Like .NET's getter it
    # throws; PowerShell turns that into $null for $cert.PrivateKey, get_PrivateKey() surfaces it.
    $script:LabCertKeyLinks.Add($o, $Cert)
    $o | Add-Member -MemberType ScriptProperty -Name PrivateKey -Value {
        $link = $null
        if (-not $script:LabCertKeyLinks.TryGetValue($this, [ref]$link) -or -not [bool]$link.HasPrivateKey) { return $null }
        $err = Get-LabCallerPrivateKeyError $link
        if ($null -ne $err) { throw $err }
        return (New-LabPrivateKeyObject $link)
    }
    $o | Add-Member -MemberType CodeMethod -Name get_PrivateKey -Value ([Rdpfix.Lab.CertificateMethods].GetMethod('get_PrivateKey'))
    $o | Add-Member -MemberType ScriptMethod -Name GetExpirationDateString -Value { $this.NotAfter.ToString() }
    $o | Add-Member -MemberType ScriptMethod -Name Verify -Value { $false }
    return $o
}

function New-LabStoreObject {
    param([string]$Location, [string]$Store)
    $o = [pscustomobject]@{
        PSPath = 'Microsoft.PowerShell.Security\Certificate::' + $Location + '\' + $Store
        PSParentPath = 'Microsoft.PowerShell.Security\Certificate::' + $Location
        PSChildName = $Store; PSDrive = 'Cert'; PSProvider = 'Microsoft.PowerShell.Security\Certificate'; PSIsContainer = $true
        Name = $Store; Location = $Location
    }
    $o.PSObject.TypeNames.Insert(0, 'System.Security.Cryptography.X509Certificates.X509Store')
    return $o
}

function New-LabStoreLocationObject {
    param([string]$Location)
    $names = @($script:LabSystemStores)
    foreach ($p in (Get-LabState).certificates.PSObject.Properties) { if ($p.Name.StartsWith($Location + '\')) { $n = $p.Name.Substring($Location.Length + 1); if ($names -notcontains $n) { $names += $n } } }
    $o = [pscustomobject]@{
        PSPath = 'Microsoft.PowerShell.Security\Certificate::' + $Location; PSParentPath = 'Microsoft.PowerShell.Security\Certificate::'
        PSChildName = $Location; PSDrive = 'Cert'; PSProvider = 'Microsoft.PowerShell.Security\Certificate'; PSIsContainer = $true
        Location = $Location; StoreNames = $names
    }
    $o.PSObject.TypeNames.Insert(0, 'Microsoft.PowerShell.Commands.X509StoreLocation')
    return $o
}

function New-LabCertItemObject {
    param($Item)
    switch ($Item.Kind) {
        'cert' { return New-LabCertObject $Item.Cert $Item.Location $Item.Store }
        'store' { return New-LabStoreObject $Item.Location $Item.Store }
        'location' { return New-LabStoreLocationObject $Item.Location }
        default { return @((New-LabStoreLocationObject 'CurrentUser'), (New-LabStoreLocationObject 'LocalMachine')) }
    }
}

# ---------------------------------------------------------------------------------------------------
# Provider verbs

function Invoke-LabCertProvider {
    <# Entry point for the path shadows on Cert: paths (same contract as Invoke-LabFileSystemProvider). #>
    param([Parameter(Mandatory)][string]$Verb, [Parameter(Mandatory)]$Parameters, [Parameter(Mandatory)]$Cmdlet)
    switch ($Verb) {
        'Test-Path' { foreach ($rp in (Get-LabRequestedPaths $Parameters)) { $null -ne (Get-LabCertItem $rp.Text) } }
        'Get-Item' { Invoke-LabCertGetItem $Parameters $Cmdlet }
        'Get-ChildItem' { Invoke-LabCertGetChildItem $Parameters $Cmdlet }
        'Remove-Item' { Invoke-LabCertRemoveItem $Parameters $Cmdlet }
        'Move-Item' { Invoke-LabCertMoveItem $Parameters $Cmdlet }
        'New-Item' { Invoke-LabCertNewItem $Parameters $Cmdlet }
        default { throw "Invoke-LabCertProvider: verb '$Verb' is not simulated for Cert: paths." }
    }
}

function Invoke-LabCertGetItem {
    param($Parameters, $Cmdlet)
    foreach ($rp in (Get-LabRequestedPaths $Parameters)) {
        $item = Get-LabCertItem $rp.Text
        if ($null -eq $item) { Write-LabPathNotFound $Cmdlet 'Get-Item' $rp.Text; continue }
        New-LabCertItemObject $item
    }
}

function Invoke-LabCertGetChildItem {
    param($Parameters, $Cmdlet)
    foreach ($rp in (Get-LabRequestedPaths $Parameters)) {
        $item = Get-LabCertItem $rp.Text
        if ($null -eq $item) { Write-LabPathNotFound $Cmdlet 'Get-ChildItem' $rp.Text; continue }
        switch ($item.Kind) {
            'cert' { New-LabCertObject $item.Cert $item.Location $item.Store }
            'store' { foreach ($c in (Get-LabStoreCerts $item.Location $item.Store)) { New-LabCertObject $c $item.Location $item.Store } }
            'location' { foreach ($s in (New-LabStoreLocationObject $item.Location).StoreNames) { New-LabStoreObject $item.Location $s } }
            default { New-LabCertItemObject $item }
        }
    }
}

function Remove-LabCert {
    <# Deletes one certificate; -DeleteKey inside a remoting session cannot delete the key: the provider
       reports RemotingFailure with the CredSSP hint and the key file stays (ref section 5.5; CertificateProvider.cs
       ThrowErrorRemoting). #>
    param($Location, $Store, $Cert, [bool]$DeleteKey, $Cmdlet)
    $path = "Cert:\$Location\$Store\$($Cert.Thumbprint)"
    $action = 'Remove certificate'
    if ($DeleteKey) { $action = 'Remove certificate and its private key.' }
    if (-not $Cmdlet.ShouldProcess("Item: $path ", $action)) { return }
    Set-LabStoreCerts $Location $Store @(Get-LabStoreCerts $Location $Store | Where-Object { $_.Thumbprint -ne $Cert.Thumbprint })
    Save-LabState
    Write-LabAudit -Command 'Remove-Item' -Detail @{ path = $path; deleteKey = $DeleteKey }
    if ($DeleteKey -and [bool]$Cert.HasPrivateKey -and $Cert.KeyContainer) {
        $msg = 'Access is denied.. The following error may be a result of user credentials required on the remote machine. See Enable-WSManCredSSP Cmdlet help on how to enable and use CredSSP for delegation with PowerShell remoting. '
        Write-LabProviderError $Cmdlet 'Remove-Item' (New-Object System.Exception($msg)) 'RemotingFailure' ([System.Management.Automation.ErrorCategory]::NotSpecified) $null
    }
}

function Invoke-LabCertRemoveItem {
    param($Parameters, $Cmdlet)
    $deleteKey = Get-LabSwitch $Parameters 'DeleteKey'
    foreach ($rp in (Get-LabRequestedPaths $Parameters)) {
        $item = Get-LabCertItem $rp.Text
        if ($null -eq $item) { Write-LabPathNotFound $Cmdlet 'Remove-Item' $rp.Text; continue }
        if ($item.Kind -eq 'cert') { Remove-LabCert $item.Location $item.Store $item.Cert $deleteKey $Cmdlet; continue }
        if ($item.Kind -ne 'store') {
            $ex = New-Object System.InvalidOperationException('You cannot remove a certificate container. ')
            Write-LabProviderError $Cmdlet 'Remove-Item' $ex 'CannotRemoveContainer' ([System.Management.Automation.ErrorCategory]::InvalidOperation) $null
            continue
        }
        Remove-LabCertStore $item $Parameters $deleteKey $Cmdlet
    }
}

function Remove-LabCertStore {
    <# A path ending at the store deletes the store, after its certificates (about_Certificate_Provider,
       "Deleting certificate stores"; the empty-store pitfall of the SA renew snippet, ref section 5.5). #>
    param($Item, $Parameters, [bool]$DeleteKey, $Cmdlet)
    if ($Item.Location -eq 'CurrentUser') {
        $ex = New-Object System.InvalidOperationException('Deleting certificate stores under CurrentUser is not supported. ')
        Write-LabProviderError $Cmdlet 'Remove-Item' $ex 'CannotDeleteUserStore' ([System.Management.Automation.ErrorCategory]::InvalidOperation) $null
        return
    }
    if ($script:LabSystemStores -contains $Item.Store) {
        $ex = New-Object System.InvalidOperationException("The store $($Item.Store) is a built-in system store and cannot be deleted.")
        Write-LabProviderError $Cmdlet 'Remove-Item' $ex 'CannotRemoveSystemStore' ([System.Management.Automation.ErrorCategory]::InvalidOperation) $null
        return
    }
    $certs = @(Get-LabStoreCerts $Item.Location $Item.Store)
    if ($certs.Count -gt 0 -and -not (Get-LabSwitch $Parameters 'Recurse')) {
        # Remove-Item asks to confirm (RemoveItemWithChildren); a remoting session cannot prompt [UNSOURCED].
        $ex = New-Object System.Management.Automation.PSInvalidOperationException('Windows PowerShell is in NonInteractive mode. Read and Prompt functionality is not available.')
        Write-LabProviderError $Cmdlet 'Remove-Item' $ex 'InvalidOperation' ([System.Management.Automation.ErrorCategory]::InvalidOperation) $null -Terminating
    }
    foreach ($c in $certs) { Remove-LabCert $Item.Location $Item.Store $c $DeleteKey $Cmdlet }
    $all = (Get-LabState).certificates
    $all.PSObject.Properties.Remove($Item.Location + '\' + $Item.Store)
    Save-LabState
    Write-LabAudit -Command 'Remove-Item' -Detail @{ path = "Cert:\$($Item.Location)\$($Item.Store)"; store = $true }
}

# ---------------------------------------------------------------------------------------------------
# Move-Item (certificates between stores of one location) and New-Item (LocalMachine stores).
# PS-SRC CertificateProvider.cs MoveItem / DoMove / NewItem; texts from CertificateProviderStrings.resx.

function Write-LabCertInvalidOperation {
    <# ThrowInvalidOperation: InvalidOperationException, category InvalidOperation, ErrorDetails = the message,
       terminating (ThrowTerminatingError), FQID '<id>,Microsoft.PowerShell.Commands.<Verb>Command'. #>
    param($Cmdlet, [string]$Verb, [string]$Id, [string]$Message)
    Write-LabProviderError $Cmdlet $Verb (New-Object System.InvalidOperationException($Message)) $Id ([System.Management.Automation.ErrorCategory]::InvalidOperation) $null -Details $Message -Terminating
}

function Invoke-LabCertMoveItem {
    <# A certificate moves to another store of the same location: CertAddCertificateContextToStore copies the
       context with its properties (the key link, CERT_KEY_PROV_INFO) and the source is deleted. The private key
       itself does not move ("it doesn't move private keys", about_Certificate_Provider): KeyContainer is kept.
       Output only with -PassThru (provider output of Move-Item). #>
    param($Parameters, $Cmdlet)
    $destRaw = [string](Get-LabParam $Parameters 'Destination' '')
    foreach ($rp in (Get-LabRequestedPaths $Parameters)) {
        $item = Get-LabCertItem $rp.Text
        if ($null -eq $item) { Write-LabPathNotFound $Cmdlet 'Move-Item' $rp.Text; continue }
        if ($item.Kind -ne 'cert') { Write-LabCertInvalidOperation $Cmdlet 'Move-Item' 'CannotMoveContainer' 'You cannot move a certificate container. ' }
        $dest = @(ConvertTo-LabCertPath $destRaw)
        if ($dest.Count -eq 3 -and $dest[2] -ieq $item.Cert.Thumbprint) { $dest = @($dest[0], $dest[1]) }
        if ($dest.Count -ne 2) { Write-LabCertInvalidOperation $Cmdlet 'Move-Item' 'InvalidDestStore' 'The destination is not a valid store. ' }
        if ($dest[0] -ine $item.Location) { Write-LabCertInvalidOperation $Cmdlet 'Move-Item' 'CannotMoveCrossContext' 'You cannot move a certificate from user store to or from machine. ' }
        if ($dest[1] -ieq $item.Store) { Write-LabCertInvalidOperation $Cmdlet 'Move-Item' 'CannotMoveToSameStore' 'You cannot move a certificate to the same store. ' }
        $target = Get-LabCertItem ('Cert:\' + $dest[0] + '\' + $dest[1])
        if ($null -eq $target -or $target.Kind -ne 'store') {
            # GetStore -> ThrowItemNotFound(path, Store): CertificateStoreNotFoundException, 'CertProviderItemNotFound'.
            $msg = "Cannot find the X509 certificate store at path $($dest[0])\$($dest[1])."
            $ex = New-Object System.Management.Automation.ItemNotFoundException($msg)
            Write-LabProviderError $Cmdlet 'Move-Item' $ex 'CertProviderItemNotFound' ([System.Management.Automation.ErrorCategory]::ObjectNotFound) $null -Details $msg -Terminating
        }
        $src = "$($item.Location)\$($item.Store)\$($item.Cert.Thumbprint)"
        $dst = "$($target.Location)\$($target.Store)"
        if (-not $Cmdlet.ShouldProcess("Item: $src Destination: $dst ", 'Move certificate')) { continue }
        $cert = $item.Cert
        Set-LabStoreCerts $target.Location $target.Store @(@(Get-LabStoreCerts $target.Location $target.Store) + $cert)
        Set-LabStoreCerts $item.Location $item.Store @(Get-LabStoreCerts $item.Location $item.Store | Where-Object { $_.Thumbprint -ne $cert.Thumbprint })
        Save-LabState
        Write-LabAudit -Command 'Move-Item' -Detail @{ path = "Cert:\$src"; destination = "Cert:\$dst" }
        if (Get-LabSwitch $Parameters 'PassThru') { New-LabCertObject $cert $target.Location $target.Store }
    }
}

function Invoke-LabCertNewItem {
    <# New-Item on Cert: creates a store in LocalMachine (CERT_STORE_CREATE_NEW_FLAG) and outputs the X509Store.
       CurrentUser and deeper paths are refused as NewItem does. An existing store makes CertOpenStore fail:
       the lab reports ERROR_FILE_EXISTS through the provider-exception path [INFERENCE]. #>
    param($Parameters, $Cmdlet)
    $name = Get-LabParam $Parameters 'Name'
    foreach ($raw in @(Get-LabParam $Parameters 'Path' @())) {
        $text = [string]$raw
        if ($name) { $text = $text.TrimEnd('\') + '\' + [string]$name }
        $el = @(ConvertTo-LabCertPath $text)
        if ($el.Count -ne 2) { Write-LabCertInvalidOperation $Cmdlet 'New-Item' 'CannotCreateItem' 'You cannot create an item other than certificate store. ' }
        if ($el[0] -ieq 'CurrentUser') { Write-LabCertInvalidOperation $Cmdlet 'New-Item' 'CannotCreateUserStore' 'Creating certificate stores under CurrentUser is not supported. ' }
        if ($el[0] -ine 'LocalMachine') { Write-LabPathNotFound $Cmdlet 'New-Item' $text; continue }
        if (-not $Cmdlet.ShouldProcess($text, 'New Item')) { continue }
        if ($null -ne (Get-LabCertItem ('Cert:\LocalMachine\' + $el[1]))) {
            $ex = New-Object System.ComponentModel.Win32Exception(80, 'The file exists.')
            Write-LabProviderError $Cmdlet 'New-Item' $ex 'NewItemProviderException' ([System.Management.Automation.ErrorCategory]::NotSpecified) $text
            continue
        }
        Set-LabStoreCerts 'LocalMachine' $el[1] @()
        Save-LabState
        Write-LabAudit -Command 'New-Item' -Detail @{ path = "Cert:\LocalMachine\$($el[1])"; store = $true }
        New-LabStoreObject 'LocalMachine' $el[1]
    }
}

# ---------------------------------------------------------------------------------------------------
# Export-Certificate / Import-Certificate (PKI module): public part only

$script:LabCertFileMarker = 'RDPFIX-LAB-CERT:'

function Export-Certificate {
    <# Writes the public certificate to a lab file (a lab encoding, not DER). Outputs the FileInfo. #>
    [CmdletBinding(SupportsShouldProcess = $true)]
    param(
        [Parameter(Mandatory = $true, ValueFromPipeline = $true)]$Cert,
        [Parameter(Mandatory = $true)][string]$FilePath,
        [ValidateSet('SST', 'CERT', 'P7B')][string]$Type = 'CERT',
        [switch]$NoClobber,
        [switch]$Force
    )
    process {
        Invoke-LabFaultPoint 'Export-Certificate'
        Use-LabCallerPreference $PSCmdlet
        $thumb = $Cert
        if ($Cert.PSObject.Properties['Thumbprint']) { $thumb = $Cert.Thumbprint }
        elseif ([string]$Cert -match '^(Cert:|Microsoft\.PowerShell\.Security)') { $thumb = @(ConvertTo-LabCertPath ([string]$Cert))[-1] }
        $found = $null
        foreach ($p in (Get-LabState).certificates.PSObject.Properties) {
            foreach ($c in @($p.Value)) { if ($null -ne $c -and $c.Thumbprint -ieq [string]$thumb) { $found = $c } }
        }
        if ($null -eq $found) { throw "Cannot find the certificate '$thumb'." }
        $public = [ordered]@{}
        foreach ($n in 'Thumbprint', 'Subject', 'Issuer', 'NotBefore', 'NotAfter', 'SerialNumber', 'FriendlyName') { $public[$n] = $found.$n }
        $bytes = [System.Text.Encoding]::UTF8.GetBytes($script:LabCertFileMarker + ([pscustomobject]$public | ConvertTo-Json -Compress))
        $path = ConvertTo-LabDocumentsPath $FilePath
        if ($NoClobber -and $null -ne (Get-LabFsItem $path)) { throw "The file '$path' already exists." }
        $err = Write-LabFsFileBytes $path $bytes
        if ($err) { throw (New-Object System.UnauthorizedAccessException($err)) }
        Save-LabState
        Write-LabAudit -Command 'Export-Certificate' -Detail @{ thumbprint = $found.Thumbprint; path = $path }
        New-LabFsItemObject (Get-LabFsItem $path)
    }
}

function Import-Certificate {
    <# Adds the public certificate from a lab file to a store. A .cer carries no key link
       (CERT_KEY_PROV_INFO_PROP_ID): the imported cert has HasPrivateKey False [INFERENCE]. #>
    [CmdletBinding(SupportsShouldProcess = $true)]
    param(
        [Parameter(Mandatory = $true, Position = 0)][string]$FilePath,
        [string]$CertStoreLocation = 'Cert:\CurrentUser\My'
    )
    Invoke-LabFaultPoint 'Import-Certificate'
    Use-LabCallerPreference $PSCmdlet
    $item = Get-LabFsItem (ConvertTo-LabDocumentsPath $FilePath)
    if ($null -eq $item -or $item.Type -eq 'directory') { throw (New-Object System.IO.FileNotFoundException("The system cannot find the file specified. (Exception from HRESULT: 0x80070002)")) }
    $text = [System.Text.Encoding]::UTF8.GetString((Get-LabFsBytes $item.Entry))
    if (-not $text.StartsWith($script:LabCertFileMarker)) { throw 'Cannot find the requested object. 0x80092004 (-2146885628 CRYPT_E_NOT_FOUND)' }
    $pub = ConvertFrom-LabJson $text.Substring($script:LabCertFileMarker.Length)
    $el = @(ConvertTo-LabCertPath $CertStoreLocation)
    $certs = @(Get-LabStoreCerts $el[0] $el[1])
    $existing = $certs | Where-Object { $_.Thumbprint -ieq $pub.Thumbprint } | Select-Object -First 1
    if ($null -eq $existing) {
        $new = [pscustomobject][ordered]@{
            Thumbprint = $pub.Thumbprint; Subject = $pub.Subject; Issuer = $pub.Issuer; NotBefore = $pub.NotBefore; NotAfter = $pub.NotAfter
            SerialNumber = $pub.SerialNumber; FriendlyName = $pub.FriendlyName; HasPrivateKey = $false; KeyContainer = $null
        }
        Set-LabStoreCerts $el[0] $el[1] @($certs + $new)
        $existing = $new
        Save-LabState
        Write-LabAudit -Command 'Import-Certificate' -Detail @{ thumbprint = $pub.Thumbprint; store = "$($el[0])\$($el[1])" }
    }
    New-LabCertObject $existing $el[0] $el[1]
}

# ---------------------------------------------------------------------------------------------------
# The RDP self-signed certificate (regenerated by the Remote Desktop service on start)

function Get-LabRegistryValue {
    param([string]$Key, [string]$Name)
    $k = (Get-LabState).registry.Find($Key)
    if ($null -eq $k -or $null -eq $k.Value) { return $null }
    $v = $k.Value.PSObject.Properties[$Name]
    if ($null -eq $v) { return $null }
    return $v.Value
}

function Get-LabRdpStoreName {
    $v = Get-LabRegistryValue $script:LabWinStationsKey 'SelfSignedCertStore'
    if ($null -ne $v -and $v.data) { return [string]$v.data }
    return 'Remote Desktop'
}

function Get-LabBoundThumbprint {
    <# SSLCertificateSHA1Hash (REG_BINARY) as an upper-case hex thumbprint, or $null. #>
    $v = Get-LabRegistryValue $script:LabRdpTcpKey 'SSLCertificateSHA1Hash'
    if ($null -eq $v) { return $null }
    return ((@($v.data) | ForEach-Object { '{0:X2}' -f [int]$_ }) -join '')
}

function Set-LabBoundThumbprint {
    param([string]$Thumbprint)
    $reg = (Get-LabState).registry
    $key = $reg.Find($script:LabRdpTcpKey)
    if ($null -eq $key) { $key = $reg.Add($script:LabRdpTcpKey, [pscustomobject]@{}) }
    $bytes = @(for ($i = 0; $i -lt $Thumbprint.Length; $i += 2) { [Convert]::ToInt32($Thumbprint.Substring($i, 2), 16) })
    $key.Value | Add-Member -NotePropertyName 'SSLCertificateSHA1Hash' -NotePropertyValue ([pscustomobject]@{ kind = 'Binary'; data = $bytes }) -Force
}

function Find-LabBoundCert {
    <# The certificate the listener uses: the SSLCertificateSHA1Hash one (RD store or My), else the
       self-signed one in the RD store [INFERENCE]. #>
    $store = Get-LabRdpStoreName
    $thumb = Get-LabBoundThumbprint
    if ($null -ne $thumb) {
        foreach ($s in @($store, 'My')) {
            foreach ($c in (Get-LabStoreCerts 'LocalMachine' $s)) { if ($c.Thumbprint -ieq $thumb) { return $c } }
        }
        return $null
    }
    return (Get-LabStoreCerts 'LocalMachine' $store | Select-Object -First 1)
}

function Test-LabRdpTlsReady {
    <# Whether the RDP listener can do TLS: bound certificate present, in date, key usable. #>
    $c = Find-LabBoundCert
    if ($null -eq $c) { return $false }
    return ((Test-LabCertInDate $c) -and (Test-LabCertKeyReadable $c))
}

function Add-LabEvent {
    param([string]$LogName, [string]$Provider, [int]$Id, [int]$Level, [string]$Message)
    $state = Get-LabState
    $max = 0
    foreach ($e in @($state.events)) { if ($null -ne $e -and [int]$e.RecordId -gt $max) { $max = [int]$e.RecordId } }
    $evt = [pscustomobject][ordered]@{
        LogName = $LogName; ProviderName = $Provider; Id = $Id; Level = $Level
        TimeCreated = (Get-LabUtcNow).ToString('o'); Message = $Message; RecordId = $max + 1
    }
    $state.events = @(@($state.events | Where-Object { $null -ne $_ }) + $evt)
}

# Verbatim texts: SA support/azure/virtual-machines/windows/event-id-troubleshoot-vm-rdp-connecton.md;
# 36870 as a real System-log export prints it (one line).
$script:LabRcmProvider = 'Microsoft-Windows-TerminalServices-RemoteConnectionManager'
$script:LabEvt1058Denied = 'The RD Session Host Server has failed to replace the expired self signed certificate used for RD Session Host Server authentication on TLS connections. The relevant status code was Access is denied.'
$script:LabEvt1058Exists = 'RD Session host server has failed to create a new self-signed certificate to be used for RD Session host server authentication on TLS connections, the relevant status code was object already exists.'
$script:LabEvt1057 = 'The RD Session Host Server has failed to create a new self signed certificate to be used for RD Session Host Server authentication on TLS connections. The relevant status code was Keyset does not exist'
$script:LabEvt36870 = 'A fatal error occurred when attempting to access the TLS server credential private key. The error code returned from the cryptographic module is 0x8009030D. The internal error state is 10001.'

function Add-LabSchannelKeyEvent {
    <# Schannel 36870 when the listener's certificate key cannot be used [INFERENCE: logged at TLS setup]. #>
    $c = Find-LabBoundCert
    if ($null -ne $c -and -not (Test-LabCertKeyReadable $c)) { Add-LabEvent 'System' 'Schannel' 36870 2 $script:LabEvt36870 }
}

function New-LabHex { param([int]$Chars) (-join (1..$Chars | ForEach-Object { '{0:X}' -f (Get-Random -Maximum 16) })) }

function Update-LabRdpCertificateOnServiceStart {
    <# What TermService / SessionEnv do on start (the services shadows call this when either goes to Running):
       keep a usable certificate; otherwise, when CertPropSvc, KeyIso, CryptSvc and SessionEnv run and SYSTEM
       can write MachineKeys, issue a new self-signed CN=<computer> certificate (~6 months) on the
       f686aace..._<MachineGuid> key and bind it; an existing unusable key file blocks it (1058 'object already
       exists'). Model and sources: docs/windows-facts/machinekeys-certificates.md. #>
    param([Parameter(Mandatory)][string]$ServiceName)
    if ($ServiceName -notin 'TermService', 'SessionEnv') { return }
    $state = Get-LabState
    $store = Get-LabRdpStoreName
    $certs = @(Get-LabStoreCerts 'LocalMachine' $store)
    $usable = @($certs | Where-Object { (Test-LabCertInDate $_) -and (Test-LabCertKeyReadable $_) })
    if ($usable.Count -gt 0) {
        if ($null -eq (Get-LabBoundThumbprint)) { Set-LabBoundThumbprint $usable[0].Thumbprint; Save-LabState }
        return
    }
    foreach ($svc in 'CertPropSvc', 'KeyIso', 'CryptSvc', 'SessionEnv') {
        $s = @($state.services | Where-Object { $_.Name -eq $svc }) | Select-Object -First 1
        if ($null -eq $s -or $s.Status -ne 'Running') { return }
    }
    $hadCert = $certs.Count -gt 0
    $mk = Get-LabFsItem (Get-LabMachineKeysDir)
    $keyName = $script:LabRdpKeyPrefix + '_' + $state.machineGuid
    $keyPath = Join-LabFsPath (Get-LabMachineKeysDir) $keyName
    $sysWrite = $null -ne $mk -and (((Get-LabEffectiveAccess (Get-LabFsSd $mk) (Get-LabServiceSids 'SYSTEM')) -band 0x2) -eq 0x2)
    $keyItem = Get-LabFsItem $keyPath
    if ($null -ne $keyItem -and -not (Test-LabKeyFileUsable $keyItem)) {
        Add-LabEvent 'System' $script:LabRcmProvider 1058 2 $script:LabEvt1058Exists
        Add-LabSchannelKeyEvent
        Save-LabState
        return
    }
    if ($null -eq $keyItem -and -not $sysWrite) {
        if ($hadCert) { Add-LabEvent 'System' $script:LabRcmProvider 1058 2 $script:LabEvt1058Denied }
        else { Add-LabEvent 'System' $script:LabRcmProvider 1057 2 $script:LabEvt1057 }
        Add-LabSchannelKeyEvent
        Save-LabState
        return
    }
    if ($null -eq $keyItem) {
        $content = [Convert]::ToBase64String([System.Text.Encoding]::ASCII.GetBytes('RSA2 TSSecKeySet1 ' + (New-LabHex 64).ToLowerInvariant()))
        Set-LabFsEntry $keyPath ([pscustomobject][ordered]@{ type = 'file'; sddl = $script:LabRdpKeySddl; content = $content; lastWriteTime = (Get-LabUtcNow).ToString('o') })
    }
    New-LabRdpSelfSignedCert $store $keyName $certs
    Save-LabState
}

function New-LabRdpSelfSignedCert {
    <# Replaces the RD store's certificates with a new self-signed one and binds it unless the listener
       is bound to a custom certificate in LocalMachine\My [INFERENCE]. #>
    param([string]$Store, [string]$KeyName, $OldCerts)
    $state = Get-LabState
    $now = (Get-LabUtcNow)
    $cert = [pscustomobject][ordered]@{
        Thumbprint = New-LabHex 40; Subject = "CN=$($state.computerName)"; Issuer = "CN=$($state.computerName)"
        NotBefore = $now.ToString('o'); NotAfter = $now.AddMonths(6).ToString('o'); SerialNumber = New-LabHex 32
        FriendlyName = ''; HasPrivateKey = $true; KeyContainer = $KeyName
    }
    Set-LabStoreCerts 'LocalMachine' $Store @($cert)
    $bound = Get-LabBoundThumbprint
    $custom = $null -ne $bound -and @(Get-LabStoreCerts 'LocalMachine' 'My' | Where-Object { $_.Thumbprint -ieq $bound }).Count -gt 0
    if (-not $custom) { Set-LabBoundThumbprint $cert.Thumbprint }
}
