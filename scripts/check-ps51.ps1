<#
.SYNOPSIS
    Windows PowerShell 5.1 compatibility checker for rdpfix's host-side scripts.

.DESCRIPTION
    Parses each *.ps1 / *.psm1 file with the PowerShell parser, reports parse errors, then walks the AST and
    reports every construct Windows PowerShell 5.1 lacks: PowerShell 6/7-only operators and blocks, cmdlets and
    cmdlet parameters that 5.1 does not have, and 5.1 behaviours that silently change what a script does.
    Every rule cites the section of /work/shared/reference/windows-rdp.md it comes from (section 12).

    Parameter names are matched as PowerShell binds them: case-insensitively, by alias, and by unambiguous
    prefix against the 5.1 parameter set ('-AsHash' is '-AsHashtable'). Aliases of commands are resolved
    ('%' / 'foreach' are ForEach-Object, '?' / 'where' are Where-Object). Commands defined as functions in the
    same file are the file's own and are not checked against the cmdlet tables (generic checks still apply).

    Suppression: a line comment '# ps51-ok: <reason>' on the same line suppresses every finding that starts on
    that line (use it for version-checked runtime calls, e.g.
    if ($hasDateKind) { ConvertFrom-Json -DateKind String } # ps51-ok: version-checked, 7.5+ only).
    The reason is required; '# ps51-ok:' alone suppresses nothing.

    Parameter data: the 5.1 parameter sets and the 6/7 additions were taken from MicrosoftDocs/PowerShell-Docs
    reference/5.1 and reference/7.6 cmdlet pages (the 'Added' lists are 7.6 names and aliases missing from 5.1;
    '@x.y' is the version the 7.6 page names, where it names one).

    This script is itself Windows PowerShell 5.1 syntax. Run under 5.1 it uses the 5.1 parser, so 6/7-only
    syntax shows up as parse errors there; under PowerShell 7 each construct gets its own rule.

.PARAMETER Path
    Files or folders. Folders are searched recursively for *.ps1 and *.psm1. Takes the remaining arguments too
    (pwsh -File check-ps51.ps1 -Path a b c).

.PARAMETER Json
    Write the findings as one JSON array (path, line, column, rule, section, message) instead of text lines.

.PARAMETER ListRules
    Print the rule table and exit.

.OUTPUTS
    Text: one line per finding, 'path:line:col: rule: message'. Exit code 1 when there is any finding, 0 when
    there is none, 2 when a path does not exist.
#>
[CmdletBinding()]
param(
    [Parameter(Position = 0)]
    [string[]]$Path,
    [switch]$Json,
    [switch]$ListRules,
    # More paths: 'pwsh -File check-ps51.ps1 -Path a b c' cannot pass an array, so b and c land here.
    [Parameter(ValueFromRemainingArguments = $true)]
    [string[]]$MorePath
)

Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

# ---------------------------------------------------------------------------------------------------------------
# Rules. 'Section' is the section of the shared reference (windows-rdp.md) the rule implements.
# ---------------------------------------------------------------------------------------------------------------
$Rules = [ordered]@{
    'parse-error'         = @{ Section = '12.1'; Summary = 'The file does not parse (5.1 would refuse it too).' }
    'ternary'             = @{ Section = '12.1'; Summary = 'Ternary operator $a ? $b : $c (PowerShell 7.0).' }
    'pipeline-chain'      = @{ Section = '12.1'; Summary = 'Pipeline chain operators && and || (PowerShell 7.0).' }
    'null-coalescing'     = @{ Section = '12.1'; Summary = 'Null-coalescing operators ?? and ??= (PowerShell 7.0).' }
    'null-conditional'    = @{ Section = '12.1'; Summary = 'Null-conditional member access ?. and ?[] (PowerShell 7.0/7.1).' }
    'background-operator' = @{ Section = '12.1'; Summary = 'Background operator: a pipeline ending in & (PowerShell 6.0).' }
    'clean-block'         = @{ Section = '12.1'; Summary = 'clean {} block (PowerShell 7.3).' }
    'ps7-cmdlet'          = @{ Section = '12.1'; Summary = 'A cmdlet that Windows PowerShell 5.1 does not have.' }
    'ps7-parameter'       = @{ Section = '12.1'; Summary = 'A cmdlet parameter or parameter alias that 5.1 does not have.' }
    'ps7-parameter-value' = @{ Section = '12.1'; Summary = 'A parameter value 5.1 does not accept (encodings, AutomaticDelayedStart, Break, more positional paths).' }
    'ps7-variable'        = @{ Section = '12.1'; Summary = 'An automatic/preference variable that only exists in PowerShell 6/7 ($PSStyle, $IsWindows...).' }
    'replace-scriptblock' = @{ Section = '12.1'; Summary = '-replace with a scriptblock substitution (PowerShell 6.1; 5.1 inserts the scriptblock text).' }
    'unicode-escape'      = @{ Section = '12.1'; Summary = 'The `u{XXXX} escape in a double-quoted string (PowerShell 6.0; 5.1 prints u{XXXX}).' }
    'string-split'        = @{ Section = '12.1'; Summary = '.Split() with a multi-character string: 5.1 splits on each character, 7 on the whole string.' }
    'non-ascii-no-bom'    = @{ Section = '12.2'; Summary = 'A non-ASCII character in a file without a UTF-8 BOM (5.1 reads BOM-less scripts as ANSI).' }
}

# Cmdlets Windows PowerShell 5.1 does not have (name = version that added it).
$Ps7Cmdlets = @{
    'Get-Error' = '7.0'; 'Test-Json' = '6.1'; 'Get-Uptime' = '6.0'; 'Remove-Service' = '6.0'; 'Join-String' = '6.2'
    'ConvertFrom-Markdown' = '6.1'; 'Show-Markdown' = '6.1'; 'Get-MarkdownOption' = '6.1'; 'Set-MarkdownOption' = '6.1'
    'Remove-Alias' = '6.0'; 'Get-SecureRandom' = '7.4'; 'ConvertTo-CliXml' = '7.5'; 'ConvertFrom-CliXml' = '7.5'
    'Get-ExperimentalFeature' = '6.2'; 'Enable-ExperimentalFeature' = '6.2'; 'Disable-ExperimentalFeature' = '6.2'
    'Get-PSSubsystem' = '7.x'; 'Switch-Process' = '7.x'; 'Start-ThreadJob' = '6.x (ThreadJob module, not in-box in 5.1)'
}

# Command aliases that exist in Windows PowerShell 5.1, for the commands in the tables below.
$CommandAliases = @{
    '%' = 'ForEach-Object'; 'foreach' = 'ForEach-Object'; '?' = 'Where-Object'; 'where' = 'Where-Object'
    'gc' = 'Get-Content'; 'cat' = 'Get-Content'; 'type' = 'Get-Content'; 'sc' = 'Set-Content'; 'ac' = 'Add-Content'
    'clc' = 'Clear-Content'; 'irm' = 'Invoke-RestMethod'; 'iwr' = 'Invoke-WebRequest'; 'curl' = 'Invoke-WebRequest'
    'wget' = 'Invoke-WebRequest'; 'sls' = 'Select-String'; 'select' = 'Select-Object'; 'sort' = 'Sort-Object'
    'epcsv' = 'Export-Csv'; 'ipcsv' = 'Import-Csv'; 'tee' = 'Tee-Object'; 'fhx' = 'Format-Hex'; 'measure' = 'Measure-Object'
    'gci' = 'Get-ChildItem'; 'ls' = 'Get-ChildItem'; 'dir' = 'Get-ChildItem'; 'gi' = 'Get-Item'; 'gp' = 'Get-ItemProperty'
    'gpv' = 'Get-ItemPropertyValue'; 'sp' = 'Set-ItemProperty'; 'si' = 'Set-Item'; 'cli' = 'Clear-Item'
    'clp' = 'Clear-ItemProperty'; 'cpp' = 'Copy-ItemProperty'; 'mp' = 'Move-ItemProperty'; 'rp' = 'Remove-ItemProperty'
    'rnp' = 'Rename-ItemProperty'; 'ii' = 'Invoke-Item'; 'rvpa' = 'Resolve-Path'; 'cvpa' = 'Convert-Path'
    'rm' = 'Remove-Item'; 'ri' = 'Remove-Item'; 'del' = 'Remove-Item'; 'erase' = 'Remove-Item'; 'rd' = 'Remove-Item'
    'rmdir' = 'Remove-Item'; 'cp' = 'Copy-Item'; 'copy' = 'Copy-Item'; 'cpi' = 'Copy-Item'; 'mv' = 'Move-Item'
    'move' = 'Move-Item'; 'mi' = 'Move-Item'; 'cd' = 'Set-Location'; 'chdir' = 'Set-Location'; 'sl' = 'Set-Location'
    'pushd' = 'Push-Location'; 'sleep' = 'Start-Sleep'; 'saps' = 'Start-Process'; 'start' = 'Start-Process'
    'icm' = 'Invoke-Command'; 'ipmo' = 'Import-Module'; 'gmo' = 'Get-Module'; 'nsn' = 'New-PSSession'
    'etsn' = 'Enter-PSSession'; 'sajb' = 'Start-Job'; 'gu' = 'Get-Unique'; 'ipal' = 'Import-Alias'
}

# 5.1 values of parameters whose value set changed (enum names, matched case-insensitively and whole).
$Enc51Content = 'ASCII BigEndianUnicode BigEndianUTF32 Byte Default OEM String Unicode Unknown UTF7 UTF8 UTF32'
$Enc51Text = 'ASCII BigEndianUnicode Default OEM Unicode UTF7 UTF8 UTF32'
$StartMode51 = 'Boot System Automatic Manual Disabled'

# Common parameters of every cmdlet and advanced function in 5.1 (name|aliases).
$CommonParams51 = 'Verbose|vb Debug|db ErrorAction|ea WarningAction|wa InformationAction|infa ErrorVariable|ev ' +
    'WarningVariable|wv InformationVariable|iv OutVariable|ov OutBuffer|ob PipelineVariable|pv'
# Parameter names every command is checked for: -ProgressAction (7.4) and the action preferences (Break, 7.0).
$CommonChecked = @{ 'progressaction' = 1; 'proga' = 1; 'erroraction' = 1; 'ea' = 1; 'warningaction' = 1; 'wa' = 1; 'informationaction' = 1; 'infa' = 1 }
# 5.1 ActionPreference names (7.0 added Break).
$ActionPreference51 = 'SilentlyContinue Stop Continue Inquire Ignore Suspend'

# Per cmdlet: Ps51 = the 5.1 parameters ('Name|alias|alias ...', common parameters are added automatically),
# Added = what 6/7 added ('Name@version' or 'Alias>Parameter'), Values = 5.1 value sets to check,
# Positional = the parameters that take positional arguments in 5.1 (in position order), when 7 takes more,
# Switches = that cmdlet's switch parameters (they take no value; needed to count positional arguments).
# Generated from MicrosoftDocs/PowerShell-Docs reference/5.1 vs reference/7.6 (### -Name / Aliases: of each page).
$CommandTable = @{
    'Enter-PSSession' = @{ Ps51 = 'AllowRedirection ApplicationName Authentication CertificateThumbprint ComputerName|Cn ConfigurationName ConnectionUri|URI|CU ContainerId Credential EnableNetworkAccess Id InstanceId Name Port RunAsAdministrator Session SessionOption UseSSL VMId|VMGuid VMName'
        Added = 'ConnectingTimeout@7.2 HostName@6.0 KeyFilePath@6.0 IdentityFilePath>KeyFilePath Options SSHTransport@6.0 Subsystem UserName@6.0' }
    'ForEach-Object' = @{ Ps51 = 'ArgumentList|Args Begin End InputObject MemberName Process RemainingScripts Confirm|cf WhatIf|wi'
        Added = 'AsJob@7.0 Parallel@7.0 ThrottleLimit@7.0 TimeoutSeconds@7.0 UseNewRunspace@7.1' }
    'Get-Module' = @{ Ps51 = 'All CimNamespace CimResourceUri CimSession FullyQualifiedName ListAvailable Name PSEdition PSSession Refresh'
        Added = 'SkipEditionCheck' }
    'Import-Module' = @{ Ps51 = 'Alias ArgumentList|Args AsCustomObject Assembly CimNamespace CimResourceUri CimSession Cmdlet DisableNameChecking Force FullyQualifiedName Function Global MaximumVersion MinimumVersion|Version ModuleInfo Name NoClobber|NoOverwrite PassThru Prefix PSSession RequiredVersion Scope Variable'
        Added = 'SkipEditionCheck UseWindowsPowerShell UseWinPS>UseWindowsPowerShell' }
    'Invoke-Command' = @{ Ps51 = 'AllowRedirection ApplicationName ArgumentList|Args AsJob Authentication CertificateThumbprint ComputerName|Cn ConfigurationName ConnectionUri|URI|CU ContainerId Credential EnableNetworkAccess FilePath|PSPath HideComputerName|HCN InDisconnectedSession|Disconnected InputObject JobName NoNewScope Port RunAsAdministrator ScriptBlock|Command Session SessionName SessionOption ThrottleLimit UseSSL VMId|VMGuid VMName'
        Added = 'ConnectingTimeout@7.2 HostName@6.0 KeyFilePath@6.0 IdentityFilePath>KeyFilePath Options@7.3 RemoteDebug SSHConnection@6.0 SSHTransport@6.0 Subsystem UserName@6.0' }
    'New-PSSession' = @{ Ps51 = 'AllowRedirection ApplicationName Authentication CertificateThumbprint ComputerName|Cn ConfigurationName ConnectionUri|URI|CU ContainerId Credential EnableNetworkAccess Name Port RunAsAdministrator Session SessionOption ThrottleLimit UseSSL VMId|VMGuid VMName'
        Added = 'ConnectingTimeout@7.2 HostName@6.0 KeyFilePath@6.0 IdentityFilePath>KeyFilePath Options SSHConnection@6.0 SSHTransport@6.0 Subsystem UserName@6.0 UseWindowsPowerShell' }
    'Start-Job' = @{ Ps51 = 'ArgumentList|Args Authentication Credential DefinitionName DefinitionPath FilePath InitializationScript InputObject LiteralPath|PSPath Name PSVersion RunAs32 ScriptBlock|Command Type'
        Added = 'LP>LiteralPath WorkingDirectory' }
    'Where-Object' = @{ Ps51 = 'CContains CEQ CGE CGT CIn CLE CLike CLT CMatch CNE CNotContains CNotIn CNotLike CNotMatch Contains|IContains EQ|IEQ FilterScript GE|IGE GT|IGT In|IIn InputObject Is IsNot LE|ILE Like|ILike LT|ILT Match|IMatch NE|INE NotContains|INotContains NotIn|INotIn NotLike|INotLike NotMatch|INotMatch Property Value'
        Added = 'Not' }
    'Add-Content' = @{ Ps51 = 'Credential Encoding Exclude Filter Force Include LiteralPath|PSPath NoNewline PassThru Path Stream UseTransaction|usetx Value Confirm|cf WhatIf|wi'
        Added = 'AsByteStream LP>LiteralPath'
        Values = @{ Encoding = $Enc51Content } }
    'Clear-Content' = @{ Ps51 = 'Credential Exclude Filter Force Include LiteralPath|PSPath Path Stream UseTransaction|usetx Confirm|cf WhatIf|wi'
        Added = 'LP>LiteralPath' }
    'Clear-Item' = @{ Ps51 = 'Credential Exclude Filter Force Include LiteralPath|PSPath Path UseTransaction|usetx Confirm|cf WhatIf|wi'
        Added = 'LP>LiteralPath' }
    'Clear-ItemProperty' = @{ Ps51 = 'Credential Exclude Filter Force Include LiteralPath|PSPath Name PassThru Path UseTransaction|usetx Confirm|cf WhatIf|wi'
        Added = 'LP>LiteralPath' }
    'Convert-Path' = @{ Ps51 = 'LiteralPath|PSPath Path UseTransaction|usetx'
        Added = 'Force@7.5 LP>LiteralPath' }
    'Copy-Item' = @{ Ps51 = 'Container Credential Destination Exclude Filter Force FromSession Include LiteralPath|PSPath PassThru Path Recurse ToSession UseTransaction|usetx Confirm|cf WhatIf|wi'
        Added = 'LP>LiteralPath' }
    'Copy-ItemProperty' = @{ Ps51 = 'Credential Destination Exclude Filter Force Include LiteralPath|PSPath Name|PSProperty PassThru Path UseTransaction|usetx Confirm|cf WhatIf|wi'
        Added = 'LP>LiteralPath' }
    'Get-ChildItem' = @{ Ps51 = 'Attributes CodeSigningCert Depth Directory|ad|d DnsName DocumentEncryptionCert Eku Exclude ExpiringInDays File|af Filter FollowSymlink Force Hidden|ah|h Include LiteralPath|PSPath Name Path ReadOnly|ar Recurse|s SSLServerAuthentication System|as UseTransaction|usetx'
        Added = 'LP>LiteralPath' }
    'Get-Content' = @{ Ps51 = 'Credential Delimiter Encoding Exclude Filter Force Include LiteralPath|PSPath Path Raw ReadCount Stream Tail|Last TotalCount|First|Head UseTransaction|usetx Wait'
        Added = 'AsByteStream LP>LiteralPath'
        Values = @{ Encoding = $Enc51Content } }
    'Get-Item' = @{ Ps51 = 'CodeSigningCert Credential DnsName DocumentEncryptionCert Eku Exclude ExpiringInDays Filter Force Include LiteralPath|PSPath Path SSLServerAuthentication Stream UseTransaction|usetx'
        Added = 'LP>LiteralPath' }
    'Get-ItemProperty' = @{ Ps51 = 'Credential Exclude Filter Include LiteralPath|PSPath Name|PSProperty Path UseTransaction|usetx'
        Added = 'LP>LiteralPath' }
    'Get-ItemPropertyValue' = @{ Ps51 = 'Credential Exclude Filter Include LiteralPath|PSPath Name|PSProperty Path UseTransaction|usetx'
        Added = 'LP>LiteralPath' }
    'Invoke-Item' = @{ Ps51 = 'Credential Exclude Filter Include LiteralPath|PSPath Path UseTransaction|usetx Confirm|cf WhatIf|wi'
        Added = 'LP>LiteralPath' }
    'Join-Path' = @{ Ps51 = 'ChildPath Credential Path|PSPath Resolve UseTransaction|usetx'
        Added = 'AdditionalChildPath@6.0'
        Positional = 'Path ChildPath'; Switches = 'Resolve Verbose Debug' }
    'Move-Item' = @{ Ps51 = 'Credential Destination Exclude Filter Force Include LiteralPath|PSPath PassThru Path UseTransaction|usetx Confirm|cf WhatIf|wi'
        Added = 'LP>LiteralPath' }
    'Move-ItemProperty' = @{ Ps51 = 'Credential Destination Exclude Filter Force Include LiteralPath|PSPath Name|PSProperty PassThru Path UseTransaction|usetx Confirm|cf WhatIf|wi'
        Added = 'LP>LiteralPath' }
    'New-ItemProperty' = @{ Ps51 = 'Credential Exclude Filter Force Include LiteralPath|PSPath Name|PSProperty Path PropertyType|Type UseTransaction|usetx Value Confirm|cf WhatIf|wi'
        Added = 'LP>LiteralPath' }
    'New-Service' = @{ Ps51 = 'BinaryPathName Credential DependsOn Description DisplayName Name|ServiceName StartupType Confirm|cf WhatIf|wi'
        Added = 'Path>BinaryPathName SecurityDescriptorSddl sd>SecurityDescriptorSddl'
        Values = @{ StartupType = $StartMode51 } }
    'Push-Location' = @{ Ps51 = 'LiteralPath|PSPath PassThru Path StackName UseTransaction|usetx'
        Added = 'LP>LiteralPath' }
    'Remove-Item' = @{ Ps51 = 'Credential DeleteKey Exclude Filter Force Include LiteralPath|PSPath Path Recurse Stream UseTransaction|usetx Confirm|cf WhatIf|wi'
        Added = 'LP>LiteralPath' }
    'Remove-ItemProperty' = @{ Ps51 = 'Credential Exclude Filter Force Include LiteralPath|PSPath Name|PSProperty Path UseTransaction|usetx Confirm|cf WhatIf|wi'
        Added = 'LP>LiteralPath' }
    'Rename-ItemProperty' = @{ Ps51 = 'Credential Exclude Filter Force Include LiteralPath|PSPath Name|PSProperty NewName PassThru Path UseTransaction|usetx Confirm|cf WhatIf|wi'
        Added = 'LP>LiteralPath' }
    'Resolve-Path' = @{ Ps51 = 'Credential LiteralPath|PSPath Path Relative UseTransaction|usetx'
        Added = 'Force@7.5 LP>LiteralPath RelativeBasePath@7.4' }
    'Set-Content' = @{ Ps51 = 'Credential Encoding Exclude Filter Force Include LiteralPath|PSPath NoNewline PassThru Path Stream UseTransaction|usetx Value Confirm|cf WhatIf|wi'
        Added = 'AsByteStream LP>LiteralPath'
        Values = @{ Encoding = $Enc51Content } }
    'Set-Item' = @{ Ps51 = 'Credential Exclude Filter Force Include LiteralPath|PSPath Options PassThru Path Type UseTransaction|usetx Value Confirm|cf WhatIf|wi'
        Added = 'LP>LiteralPath' }
    'Set-ItemProperty' = @{ Ps51 = 'Credential Exclude Filter Force Include InputObject LiteralPath|PSPath Name|PSProperty PassThru Path Type UseTransaction|usetx Value Confirm|cf WhatIf|wi'
        Added = 'LP>LiteralPath' }
    'Set-Location' = @{ Ps51 = 'LiteralPath|PSPath PassThru Path StackName UseTransaction|usetx'
        Added = 'LP>LiteralPath' }
    'Set-Service' = @{ Ps51 = 'ComputerName|cn Description DisplayName|DN InputObject Name|ServiceName|SN PassThru StartupType|StartMode|SM|ST Status Confirm|cf WhatIf|wi'
        Added = 'Credential@6.0 Force SecurityDescriptorSddl sd>SecurityDescriptorSddl StartType>StartupType'
        Values = @{ StartupType = $StartMode51 } }
    'Split-Path' = @{ Ps51 = 'Credential IsAbsolute Leaf LiteralPath|PSPath NoQualifier Parent Path Qualifier Resolve UseTransaction|usetx'
        Added = 'Extension@6.0 LeafBase@6.0 LP>LiteralPath' }
    'Start-Process' = @{ Ps51 = 'ArgumentList|Args Credential|RunAs FilePath|PSPath LoadUserProfile|Lup NoNewWindow|nnw PassThru RedirectStandardError|RSE RedirectStandardInput|RSI RedirectStandardOutput|RSO UseNewEnvironment Verb Wait WindowStyle WorkingDirectory'
        Added = 'Environment@7.4 Path>FilePath Confirm cf>Confirm WhatIf@6.0 wi>WhatIf' }
    'Test-Connection' = @{ Ps51 = 'AsJob BufferSize|Size|Bytes|BS ComputerName|CN|IPAddress|__SERVER|Server|Destination Count Credential DcomAuthentication|Authentication Delay Impersonation Protocol Quiet Source|FCN|SRC ThrottleLimit TimeToLive|TTL WsmanAuthentication'
        Added = 'Detailed@7.4 DontFragment IPv4 IPv6 MaxHops Hops>MaxHops MtuSize MtuSizeDetect>MtuSize Ping Repeat Continuous>Repeat ResolveDestination TargetName TcpPort TimeoutSeconds@6.0 Traceroute' }
    'Test-Path' = @{ Ps51 = 'Credential Exclude Filter Include IsValid LiteralPath|PSPath NewerThan OlderThan Path PathType|Type UseTransaction|usetx'
        Added = 'LP>LiteralPath' }
    'Wait-Process' = @{ Ps51 = 'Id|PID|ProcessId InputObject Name|ProcessName Timeout|TimeoutSec'
        Added = 'Any@7.4 PassThru@7.4' }
    'ConvertFrom-Json' = @{ Ps51 = 'InputObject'
        Added = 'AsHashtable@6.0 DateKind@7.5 Depth@6.2 NoEnumerate@7.1' }
    'ConvertFrom-StringData' = @{ Ps51 = 'StringData'
        Added = 'Delimiter' }
    'ConvertTo-Csv' = @{ Ps51 = 'Delimiter InputObject NoTypeInformation|NTI UseCulture'
        Added = 'IncludeTypeInformation@6.0 ITI>IncludeTypeInformation NoHeader@7.4 QuoteFields@7.0 QF>QuoteFields UseQuotes@7.0 UQ>UseQuotes' }
    'ConvertTo-Html' = @{ Ps51 = 'As Body CssUri|cu|uri Fragment Head InputObject PostContent PreContent Property Title'
        Added = 'Charset@6.0 Meta@6.0 Transitional@6.0' }
    'ConvertTo-Json' = @{ Ps51 = 'Compress Depth InputObject'
        Added = 'AsArray EnumsAsStrings EscapeHandling@6.2' }
    'Export-Clixml' = @{ Ps51 = 'Depth Encoding Force InputObject LiteralPath|PSPath NoClobber|NoOverwrite Path Confirm|cf WhatIf|wi'
        Added = 'LP>LiteralPath'
        Values = @{ Encoding = $Enc51Text } }
    'Export-Csv' = @{ Ps51 = 'Append Delimiter Encoding Force InputObject LiteralPath|PSPath NoClobber|NoOverwrite NoTypeInformation|NTI Path UseCulture Confirm|cf WhatIf|wi'
        Added = 'IncludeTypeInformation@6.0 ITI>IncludeTypeInformation LP>LiteralPath NoHeader@7.4 QuoteFields@7.0 QF>QuoteFields UseQuotes@7.0 UQ>UseQuotes'
        Values = @{ Encoding = $Enc51Text } }
    'Format-Hex' = @{ Ps51 = 'Encoding InputObject LiteralPath|PSPath Path Raw'
        Added = 'Count@6.2 LP>LiteralPath Offset@6.2'
        Values = @{ Encoding = 'ASCII BigEndianUnicode Unicode UTF7 UTF8 UTF32' } }
    'Get-Culture' = @{ Ps51 = ''
        Added = 'ListAvailable@6.2 Name@6.2 NoUserOverrides@6.2' }
    'Get-Date' = @{ Ps51 = 'Date|LastWriteTime Day DisplayHint Format Hour Millisecond Minute Month Second UFormat Year'
        Added = 'AsUTC@7.1 UnixTimeSeconds@7.1 UnixTime>UnixTimeSeconds' }
    'Get-Random' = @{ Ps51 = 'Count InputObject Maximum Minimum SetSeed'
        Added = 'Shuffle' }
    'Get-Unique' = @{ Ps51 = 'AsString InputObject OnType'
        Added = 'CaseInsensitive@7.4' }
    'Import-Alias' = @{ Ps51 = 'Force LiteralPath|PSPath PassThru Path Scope Confirm|cf WhatIf|wi'
        Added = 'LP>LiteralPath' }
    'Import-Clixml' = @{ Ps51 = 'First IncludeTotalCount LiteralPath|PSPath Path Skip'
        Added = 'LP>LiteralPath' }
    'Import-Csv' = @{ Ps51 = 'Delimiter Encoding Header LiteralPath|PSPath Path UseCulture'
        Added = 'LP>LiteralPath'
        Values = @{ Encoding = $Enc51Text } }
    'Invoke-RestMethod' = @{ Ps51 = 'Body Certificate CertificateThumbprint ContentType Credential DisableKeepAlive Headers InFile MaximumRedirection Method OutFile PassThru Proxy ProxyCredential ProxyUseDefaultCredentials SessionVariable|SV TimeoutSec TransferEncoding Uri UseBasicParsing UseDefaultCredentials UserAgent WebSession'
        Added = 'AllowInsecureRedirect@7.4 AllowUnencryptedAuthentication@6.0 Authentication@6.0 ConnectionTimeoutSeconds CustomMethod@6.0 CM>CustomMethod FollowRelLink@6.0 FL>FollowRelLink Form@6.1 HttpVersion MaximumFollowRelLink ML>MaximumFollowRelLink MaximumRetryCount NoProxy@6.0 OperationTimeoutSeconds PreserveAuthorizationOnRedirect@6.0 PreserveHttpMethodOnRedirect@7.4 ResponseHeadersVariable@6.0 RHV>ResponseHeadersVariable Resume@6.1 RetryIntervalSec SkipCertificateCheck@6.0 SkipHeaderValidation@6.0 SkipHttpErrorCheck SslProtocol@6.0 StatusCodeVariable Token@6.0 UnixSocket@7.4' }
    'Invoke-WebRequest' = @{ Ps51 = 'Body Certificate CertificateThumbprint ContentType Credential DisableKeepAlive Headers InFile MaximumRedirection Method OutFile PassThru Proxy ProxyCredential ProxyUseDefaultCredentials SessionVariable|SV TimeoutSec TransferEncoding Uri UseBasicParsing UseDefaultCredentials UserAgent WebSession'
        Added = 'AllowInsecureRedirect@7.4 AllowUnencryptedAuthentication@6.0 Authentication@6.0 ConnectionTimeoutSeconds CustomMethod@6.0 CM>CustomMethod Form@6.1 HttpVersion MaximumRetryCount NoProxy OperationTimeoutSeconds PreserveAuthorizationOnRedirect@6.0 PreserveHttpMethodOnRedirect@7.4 Resume@6.1 RetryIntervalSec SkipCertificateCheck@6.0 SkipHeaderValidation@6.0 SkipHttpErrorCheck SslProtocol@6.0 Token@6.0 UnixSocket@7.4' }
    'Measure-Object' = @{ Ps51 = 'Average Character IgnoreWhiteSpace InputObject Line Maximum Minimum Property Sum Word'
        Added = 'AllStats StandardDeviation' }
    'New-Guid' = @{ Ps51 = ''
        Added = 'Empty InputObject' }
    'New-TimeSpan' = @{ Ps51 = 'Days End Hours Minutes Seconds Start|LastWriteTime'
        Added = 'Milliseconds' }
    'Out-File' = @{ Ps51 = 'Append Encoding FilePath Force InputObject LiteralPath|PSPath NoClobber|NoOverwrite NoNewline Width Confirm|cf WhatIf|wi'
        Added = 'Path>FilePath LP>LiteralPath'
        Values = @{ Encoding = 'ASCII BigEndianUnicode Default OEM String Unicode Unknown UTF7 UTF8 UTF32' } }
    'Out-String' = @{ Ps51 = 'InputObject Stream Width'
        Added = 'NoNewline@6.0' }
    'Select-Object' = @{ Ps51 = 'ExcludeProperty ExpandProperty First Index InputObject Last Property Skip SkipLast Unique Wait'
        Added = 'CaseInsensitive@7.4 SkipIndex' }
    'Select-String' = @{ Ps51 = 'AllMatches CaseSensitive Context Encoding Exclude Include InputObject List LiteralPath|PSPath NotMatch Path Pattern Quiet SimpleMatch'
        Added = 'Culture LP>LiteralPath NoEmphasis Raw'
        Values = @{ Encoding = $Enc51Text } }
    'Select-Xml' = @{ Ps51 = 'Content LiteralPath|PSPath Namespace Path Xml|Node XPath'
        Added = 'LP>LiteralPath' }
    'Send-MailMessage' = @{ Ps51 = 'Attachments|PsPath Bcc Body BodyAsHtml|BAH Cc Credential DeliveryNotificationOption|DNO Encoding|BE From Port Priority SmtpServer|ComputerName Subject|sub To UseSsl'
        Added = 'ReplyTo@6.2'
        Values = @{ Encoding = $Enc51Text } }
    'Sort-Object' = @{ Ps51 = 'CaseSensitive Culture Descending InputObject Property Unique'
        Added = 'Bottom@6.0 Stable Top@6.0' }
    'Start-Sleep' = @{ Ps51 = 'Milliseconds Seconds'
        Added = 'Duration@7.3 ts>Duration ms>Milliseconds' }
    'Tee-Object' = @{ Ps51 = 'Append FilePath InputObject LiteralPath|PSPath Variable'
        Added = 'Encoding@7.2 Path>FilePath LP>LiteralPath' }
    'ConvertFrom-SecureString' = @{ Ps51 = 'Key SecureKey SecureString'
        Added = 'AsPlainText@7.0' }
    'Get-Acl' = @{ Ps51 = 'AllCentralAccessPolicies Audit Exclude Filter Include InputObject LiteralPath|PSPath Path UseTransaction|usetx'
        Added = 'LP>LiteralPath' }
    'Get-AuthenticodeSignature' = @{ Ps51 = 'Content FilePath LiteralPath|PSPath SourcePathOrExtension'
        Added = 'LP>LiteralPath' }
    'Get-Credential' = @{ Ps51 = 'Credential Message UserName'
        Added = 'Title@6.0' }
    'Get-PfxCertificate' = @{ Ps51 = 'FilePath LiteralPath|PSPath'
        Added = 'LP>LiteralPath NoPromptForPassword Password@6.1' }
    'Set-AuthenticodeSignature' = @{ Ps51 = 'Certificate Content FilePath Force HashAlgorithm IncludeChain LiteralPath|PSPath SourcePathOrExtension TimestampServer Confirm|cf WhatIf|wi'
        Added = 'LP>LiteralPath' }
    'Get-CimClass' = @{ Ps51 = 'CimSession ClassName ComputerName|CN|ServerName MethodName Namespace OperationTimeoutSec|OT PropertyName QualifierName'
        Added = 'Amended@7.3' }
    'Invoke-WSManAction' = @{ Ps51 = 'Action ApplicationName Authentication|auth|am CertificateThumbprint ComputerName|cn ConnectionURI|CURI|CU Credential|cred|c FilePath OptionSet|os Port ResourceURI|ruri SelectorSet SessionOption|so UseSSL ValueSet'
        Added = 'Path>FilePath' }
    'New-WSManInstance' = @{ Ps51 = 'ApplicationName Authentication|auth|am CertificateThumbprint ComputerName|cn ConnectionURI|CURI|CU Credential|cred|c FilePath OptionSet|os Port ResourceURI|ruri SelectorSet SessionOption|so UseSSL ValueSet'
        Added = 'Path>FilePath' }
    'Set-WSManInstance' = @{ Ps51 = 'ApplicationName Authentication|auth|am CertificateThumbprint ComputerName|cn ConnectionURI Credential|cred|c Dialect FilePath Fragment OptionSet|os Port ResourceURI|ruri SelectorSet SessionOption|so UseSSL|ssl ValueSet'
        Added = 'Path>FilePath' }
    'Start-Transcript' = @{ Ps51 = 'Append Force IncludeInvocationHeader LiteralPath|PSPath NoClobber|NoOverwrite OutputDirectory Path Confirm|cf WhatIf|wi'
        Added = 'LP>LiteralPath UseMinimalHeader@6.2' }
    'Stop-Transcript' = @{ Ps51 = ''
        Added = 'Confirm@7.4 cf>Confirm WhatIf@7.4 wi>WhatIf' }
    'Compress-Archive' = @{ Ps51 = 'CompressionLevel DestinationPath Force LiteralPath|PSPath Path Update Confirm|cf WhatIf|wi'
        Added = 'PassThru@6.0' }
    'Expand-Archive' = @{ Ps51 = 'DestinationPath Force LiteralPath|PSPath Path Confirm|cf WhatIf|wi'
        Added = 'PassThru' }
}

# Variables that exist only in PowerShell 6/7. Polyfill = reads are fine when the file assigns it itself.
$Ps7Variables = @{
    'PSStyle' = @{ Version = '7.2'; Polyfill = $false; Why = 'it is $null in 5.1' }
    'IsWindows' = @{ Version = '6.0'; Polyfill = $true; Why = 'it is $null (false) in 5.1, even on Windows' }
    'IsLinux' = @{ Version = '6.0'; Polyfill = $true; Why = 'it is $null in 5.1' }
    'IsMacOS' = @{ Version = '6.0'; Polyfill = $true; Why = 'it is $null in 5.1' }
    'IsCoreCLR' = @{ Version = '6.0'; Polyfill = $true; Why = 'it is $null in 5.1' }
    'PSNativeCommandUseErrorActionPreference' = @{ Version = '7.3'; Polyfill = $false; Why = 'setting it has no effect in 5.1' }
    'PSNativeCommandArgumentPassing' = @{ Version = '7.3'; Polyfill = $false; Why = 'setting it has no effect in 5.1' }
    'EnabledExperimentalFeatures' = @{ Version = '6.2'; Polyfill = $false; Why = 'it is $null in 5.1' }
}

# ---------------------------------------------------------------------------------------------------------------
# Table preparation
# ---------------------------------------------------------------------------------------------------------------
function ConvertTo-ParamSet {
    # 'Name|alias ...' -> list of @{ Key = lower-case name or alias; Target = parameter name }
    param([string]$Spec)
    $list = New-Object System.Collections.Generic.List[object]
    foreach ($group in ($Spec -split '\s+')) {
        if ($group -eq '') { continue }
        $names = @($group -split '\|')
        foreach ($n in $names) { $list.Add(@{ Key = $n.ToLowerInvariant(); Target = $names[0] }) }
    }
    return , $list
}

function ConvertTo-AddedSet {
    # 'Name@ver Alias>Target ...' -> list of @{ Key; Target; Version; IsAlias }
    param([string]$Spec)
    $list = New-Object System.Collections.Generic.List[object]
    foreach ($item in ($Spec -split '\s+')) {
        if ($item -eq '') { continue }
        if ($item -match '^(?<a>[^>]+)>(?<t>.+)$') {
            $list.Add(@{ Key = $Matches.a.ToLowerInvariant(); Target = $Matches.t; Name = $Matches.a; Version = ''; IsAlias = $true })
        } elseif ($item -match '^(?<n>[^@]+)(@(?<v>.+))?$') {
            $v = ''
            if ($Matches.ContainsKey('v')) { $v = $Matches.v }
            $list.Add(@{ Key = $Matches.n.ToLowerInvariant(); Target = $Matches.n; Name = $Matches.n; Version = $v; IsAlias = $false })
        }
    }
    return , $list
}

$CommonSet = ConvertTo-ParamSet $CommonParams51
$Prepared = @{}
foreach ($name in @($CommandTable.Keys)) {
    $e = $CommandTable[$name]
    $ps51 = ConvertTo-ParamSet $e.Ps51
    foreach ($c in $CommonSet) { $ps51.Add($c) }
    $added = ConvertTo-AddedSet ''
    if ($e.ContainsKey('Added')) { $added = ConvertTo-AddedSet $e.Added }
    $values = @{}
    if ($e.ContainsKey('Values')) { foreach ($k in $e.Values.Keys) { $values[$k.ToLowerInvariant()] = @($e.Values[$k] -split '\s+') } }
    $positional = @()
    if ($e.ContainsKey('Positional')) { $positional = @($e.Positional -split '\s+') }
    $switches = @()
    if ($e.ContainsKey('Switches')) { $switches = @($e.Switches -split '\s+') }
    $Prepared[$name.ToLowerInvariant()] = @{ Name = $name; Ps51 = $ps51; Added = $added; Values = $values; Positional = $positional; Switches = $switches }
}

function Resolve-Parameter {
    <# How 5.1 binds '-Name' for this cmdlet: exact name/alias first, then unambiguous prefix.
       Returns @{ Kind = 'ps51' | 'ps7' | 'unknown'; Target; Version; Name; IsAlias } #>
    param($Entry, [string]$Name)
    $key = $Name.ToLowerInvariant()
    foreach ($p in $Entry.Ps51) { if ($p.Key -eq $key) { return @{ Kind = 'ps51'; Target = $p.Target } } }
    foreach ($p in $Entry.Added) {
        if ($p.Key -eq $key) { return @{ Kind = 'ps7'; Target = $p.Target; Version = $p.Version; Name = $p.Name; IsAlias = $p.IsAlias } }
    }
    $targets51 = @{}
    foreach ($p in $Entry.Ps51) { if ($p.Key.StartsWith($key)) { $targets51[$p.Target] = $true } }
    if ($targets51.Count -eq 1) { return @{ Kind = 'ps51'; Target = @($targets51.Keys)[0] } }
    if ($targets51.Count -gt 1) { return @{ Kind = 'unknown'; Target = $null } }  # ambiguous in 5.1 and 7 alike
    # Aliases are not prefix-matched: only parameter names are.
    $added = @(foreach ($p in $Entry.Added) { if (-not $p.IsAlias -and $p.Key.StartsWith($key)) { $p } })
    if ($added.Count -ge 1) {
        $names = @(foreach ($p in $added) { $p.Name }) -join ', -'
        $version = ''
        if ($added.Count -eq 1) { $version = $added[0].Version }
        return @{ Kind = 'ps7'; Target = $names; Version = $version; Name = $Name; IsAlias = $false }
    }
    return @{ Kind = 'unknown'; Target = $null }
}

# ---------------------------------------------------------------------------------------------------------------
# Findings
# ---------------------------------------------------------------------------------------------------------------
$script:Findings = New-Object System.Collections.Generic.List[object]
$script:Seen = @{}
$script:CurrentFile = $null
$script:Suppressed = @{}

function Add-Finding {
    param([string]$Rule, [int]$Line, [int]$Column, [string]$Message)
    if ($script:Suppressed.ContainsKey($Line)) { return }
    $key = '{0}:{1}:{2}' -f $Line, $Column, $Rule
    if ($script:Seen.ContainsKey($key)) { return }
    $script:Seen[$key] = $true
    $script:Findings.Add([pscustomobject][ordered]@{
            path = $script:CurrentFile; line = $Line; column = $Column; rule = $Rule
            section = $Rules[$Rule].Section; message = $Message
        })
}

function Add-ExtentFinding {
    param([string]$Rule, $Extent, [string]$Message)
    Add-Finding -Rule $Rule -Line $Extent.StartLineNumber -Column $Extent.StartColumnNumber -Message $Message
}

# AST properties that only PowerShell 7 has (under 5.1 the parser cannot produce these constructs anyway).
# Looked up once: a property test per node is too slow on big files.
$LangNs = 'System.Management.Automation.Language.'
$HasNullConditional = $null -ne ([type]($LangNs + 'MemberExpressionAst')).GetProperty('NullConditional')
$HasIndexNullConditional = $null -ne ([type]($LangNs + 'IndexExpressionAst')).GetProperty('NullConditional')
$HasBackground = $null -ne ([type]($LangNs + 'PipelineAst')).GetProperty('Background')

function Get-FlatToken {
    # All tokens, including those nested in expandable strings, in source order (pre-order: nested tokens lie
    # inside their string token, after its start).
    param($Tokens)
    $out = New-Object System.Collections.Generic.List[object]
    $stack = New-Object System.Collections.Generic.Stack[object]
    for ($i = $Tokens.Count - 1; $i -ge 0; $i--) { $stack.Push($Tokens[$i]) }
    while ($stack.Count -gt 0) {
        $t = $stack.Pop()
        $out.Add($t)
        if ($t -is [System.Management.Automation.Language.StringExpandableToken] -and $null -ne $t.NestedTokens) {
            $nested = $t.NestedTokens
            for ($i = $nested.Count - 1; $i -ge 0; $i--) { $stack.Push($nested[$i]) }
        }
    }
    return , $out.ToArray()
}

function Find-TokenAfter {
    # The first token of one of the kinds that starts at or after Offset (for operator positions).
    param([int]$Offset, [string[]]$Kinds)
    if ($null -eq $script:FlatTokens) { $script:FlatTokens = Get-FlatToken $script:Tokens }
    foreach ($t in $script:FlatTokens) {
        if ($t.Extent.StartOffset -ge $Offset -and ($Kinds -contains $t.Kind.ToString())) { return $t.Extent }
    }
    return $null
}

function Add-OperatorFinding {
    param([string]$Rule, $Node, [int]$After, [string[]]$Kinds, [string]$Message)
    $extent = Find-TokenAfter -Offset $After -Kinds $Kinds
    if ($null -eq $extent) { $extent = $Node.Extent }
    Add-ExtentFinding -Rule $Rule -Extent $extent -Message $Message
}

function Get-InnerExpression {
    # (expr) -> expr, so that -Encoding ('utf8NoBOM') and -Encoding ([Text.Encoding]::UTF8) are seen too.
    param($Ast)
    while ($null -ne $Ast) {
        $type = $Ast.GetType().Name
        if ($type -eq 'ParenExpressionAst') { $Ast = $Ast.Pipeline; continue }
        if ($type -eq 'PipelineAst' -and $Ast.PipelineElements.Count -eq 1 -and $Ast.PipelineElements[0].GetType().Name -eq 'CommandExpressionAst') {
            $Ast = $Ast.PipelineElements[0].Expression; continue
        }
        break
    }
    return $Ast
}

function Get-ConstantText {
    # The text of a constant argument (bareword, quoted string, number), or $null.
    param($Ast)
    $Ast = Get-InnerExpression $Ast
    if ($null -eq $Ast) { return $null }
    $type = $Ast.GetType().Name
    if ($type -eq 'StringConstantExpressionAst') { return [string]$Ast.Value }
    if ($type -eq 'ConstantExpressionAst') { return [string]$Ast.Value }
    return $null
}

function Test-EncodingObject {
    # [System.Text.Encoding]::UTF8, [Text.UTF8Encoding]::new($false), New-Object Text.UTF8Encoding...
    param($Ast)
    $Ast = Get-InnerExpression $Ast
    if ($null -eq $Ast) { return $false }
    $type = $Ast.GetType().Name
    if ($type -eq 'MemberExpressionAst' -or $type -eq 'InvokeMemberExpressionAst') {
        $target = $Ast.Expression
        if ($target.GetType().Name -eq 'TypeExpressionAst' -and $target.TypeName.FullName -match 'Encoding$') { return $true }
    }
    if ($type -eq 'ConvertExpressionAst' -and $Ast.Type.TypeName.FullName -match 'Encoding$') { return $true }
    return $false
}

# ---------------------------------------------------------------------------------------------------------------
# Command checks
# ---------------------------------------------------------------------------------------------------------------
function Test-ParameterValue {
    param($Entry, [string]$Param, $ValueAst, $Extent, [string]$Command)
    $key = $Param.ToLowerInvariant()
    if (-not $Entry.Values.ContainsKey($key)) { return }
    $allowed = $Entry.Values[$key]
    if ($key -eq 'encoding' -and (Test-EncodingObject $ValueAst)) {
        Add-ExtentFinding 'ps7-parameter-value' $ValueAst.Extent ("{0} -Encoding takes an encoding name in 5.1 ({1}), not a System.Text.Encoding object (6.2+)." -f $Command, ($allowed -join ', '))
        return
    }
    $text = Get-ConstantText $ValueAst
    if ($null -eq $text) { return }
    foreach ($a in $allowed) { if ($a -ieq $text) { return } }
    $why = ''
    if ($key -eq 'encoding') {
        if ($text -match '^\d+$') { $why = ' (numeric code pages: 6.2+)' }
        elseif ($text -match '^utf8(no)?bom$') { $why = ' (6.0+; in 5.1 -Encoding UTF8 always writes a BOM)' }
        elseif ($text -ieq 'ansi') { $why = ' (7.4+; 5.1 calls it Default)' }
    }
    if ($key -eq 'startuptype' -and $text -ieq 'AutomaticDelayedStart') { $why = ' (7.x; on 5.1 set HKLM:\SYSTEM\CurrentControlSet\Services\<name>\DelayedAutostart = 1 or use sc.exe config <name> start= delayed-auto)' }
    Add-ExtentFinding 'ps7-parameter-value' $ValueAst.Extent ("{0} -{1} {2} is not a 5.1 value{3}; 5.1 accepts: {4}." -f $Command, $Param, $text, $why, ($allowed -join ', '))
}

function Test-NamedParameter {
    <# One '-Name value' (or splatted key) of a known cmdlet. Returns the 5.1 parameter name when it binds, else $null. #>
    param($Entry, [string]$Name, $ValueAst, $Extent, [string]$Command)
    $r = Resolve-Parameter -Entry $Entry -Name $Name
    if ($r.Kind -eq 'ps7') {
        if ($r.IsAlias) {
            $msg = "{0} -{1}: the alias -{1} (for -{2}) does not exist in Windows PowerShell 5.1; write -{2}." -f $Command, $Name, $r.Target
        } else {
            $since = 'PowerShell 6+'
            if ($r.Version) { $since = 'PowerShell ' + $r.Version }
            $as = ''
            if ($r.Target -ine $Name) { $as = ' (binds to -{0} in 7)' -f $r.Target }
            $msg = "{0} -{1}{2}: parameter not in Windows PowerShell 5.1 (added in {3})." -f $Command, $Name, $as, $since
        }
        Add-ExtentFinding 'ps7-parameter' $Extent $msg
        return $null
    }
    if ($r.Kind -eq 'ps51') {
        if ($null -ne $ValueAst) { Test-ParameterValue -Entry $Entry -Param $r.Target -ValueAst $ValueAst -Extent $Extent -Command $Command }
        return $r.Target
    }
    return $null
}

function Test-CommonParameter {
    # Checks that apply to every command, cmdlet or function: -ProgressAction (7.4) and the 'Break' action (7.0).
    param([string]$Name, $ValueAst, $Extent, [string]$Command)
    $key = $Name.ToLowerInvariant()
    if (-not $CommonChecked.ContainsKey($key)) { return }
    if ($key -eq 'progressaction' -or $key -eq 'proga') {
        Add-ExtentFinding 'ps7-parameter' $Extent ("{0} -{1}: the common parameter -ProgressAction was added in PowerShell 7.4; in 5.1 set `$ProgressPreference instead." -f $Command, $Name)
        return
    }
    if ($key -ne 'progressaction' -and $key -ne 'proga') {
        $text = Get-ConstantText $ValueAst
        if ($null -ne $text -and $text -ieq 'Break') {
            Add-ExtentFinding 'ps7-parameter-value' $ValueAst.Extent ("{0} -{1} Break: the Break action preference was added in PowerShell 7.0; 5.1 accepts: {2}." -f $Command, $Name, ($ActionPreference51 -replace ' ', ', '))
        }
    }
}

function Get-SplatHashtable {
    # Hashtable literals assigned to $Name anywhere in the file: $p = @{...} or $p = [ordered]@{...}.
    param([string]$Name)
    $found = @()
    foreach ($a in $script:Assignments) {
        $left = $a.Left
        if ($left.GetType().Name -ne 'VariableExpressionAst') { continue }
        if ($left.VariablePath.UserPath -ine $Name -and ($left.VariablePath.UserPath -replace '^\w+:', '') -ine $Name) { continue }
        $right = $a.Right
        if ($right.GetType().Name -eq 'CommandExpressionAst') { $right = $right.Expression }
        if ($right.GetType().Name -eq 'ConvertExpressionAst') { $right = $right.Child }
        if ($right.GetType().Name -eq 'HashtableAst') { $found += , $right }
    }
    return , $found
}

function Test-Command {
    param($Cmd)
    $name = $Cmd.GetCommandName()
    if ([string]::IsNullOrEmpty($name)) { return }
    $bare = $name
    if ($bare.Contains('\')) { $bare = $bare.Substring($bare.LastIndexOf('\') + 1) }
    $canonical = $bare
    if ($CommandAliases.ContainsKey($bare.ToLowerInvariant())) { $canonical = $CommandAliases[$bare.ToLowerInvariant()] }
    $ownFunction = $script:LocalFunctions.ContainsKey($canonical.ToLowerInvariant()) -or $script:LocalFunctions.ContainsKey($bare.ToLowerInvariant())
    $elements = $Cmd.CommandElements

    # Generic checks (every command).
    for ($i = 1; $i -lt $elements.Count; $i++) {
        $el = $elements[$i]
        if ($el.GetType().Name -ne 'CommandParameterAst') { continue }
        $value = $el.Argument
        if ($null -eq $value -and $i + 1 -lt $elements.Count -and $elements[$i + 1].GetType().Name -ne 'CommandParameterAst') { $value = $elements[$i + 1] }
        if ($CommonChecked.ContainsKey($el.ParameterName)) { Test-CommonParameter -Name $el.ParameterName -ValueAst $value -Extent $el.Extent -Command $bare }
    }
    if ($ownFunction) { return }

    $key = $canonical.ToLowerInvariant()
    if ($Ps7Cmdlets.ContainsKey($canonical)) {
        Add-ExtentFinding 'ps7-cmdlet' $elements[0].Extent ("{0}: cmdlet not in Windows PowerShell 5.1 (added in PowerShell {1})." -f $canonical, $Ps7Cmdlets[$canonical])
        return
    }
    if (-not $Prepared.ContainsKey($key)) { return }
    $entry = $Prepared[$key]
    $label = $bare
    if ($bare -ine $canonical) { $label = '{0} ({1})' -f $bare, $canonical }

    $positionalCount = 0
    $namedPositional = @{}
    $i = 1
    while ($i -lt $elements.Count) {
        $el = $elements[$i]
        $type = $el.GetType().Name
        if ($type -eq 'CommandParameterAst') {
            $value = $el.Argument
            $takesNext = $false
            if ($null -eq $value -and $i + 1 -lt $elements.Count -and $elements[$i + 1].GetType().Name -ne 'CommandParameterAst') {
                $value = $elements[$i + 1]; $takesNext = $true
            }
            $bound = Test-NamedParameter -Entry $entry -Name $el.ParameterName -ValueAst $value -Extent $el.Extent -Command $label
            if ($null -ne $bound -and ($entry.Positional -contains $bound)) { $namedPositional[$bound] = $true }
            # Switches do not take the next element; only the positional count (Join-Path) depends on this.
            if ($takesNext -and $entry.Positional.Count -gt 0 -and $null -ne $bound -and ($entry.Switches -notcontains $bound)) { $i++ }
            $i++
            continue
        }
        if ($type -eq 'VariableExpressionAst' -and $el.Splatted) {
            foreach ($ht in (Get-SplatHashtable $el.VariablePath.UserPath)) {
                foreach ($pair in $ht.KeyValuePairs) {
                    $k = Get-ConstantText $pair.Item1
                    if ($null -eq $k) { continue }
                    $v = $pair.Item2
                    if ($v.GetType().Name -eq 'PipelineAst' -and $v.PipelineElements.Count -eq 1 -and $v.PipelineElements[0].GetType().Name -eq 'CommandExpressionAst') { $v = $v.PipelineElements[0].Expression }
                    $null = Test-NamedParameter -Entry $entry -Name $k -ValueAst $v -Extent $pair.Item1.Extent -Command ('{0} (splatted @{1})' -f $label, $el.VariablePath.UserPath)
                    Test-CommonParameter -Name $k -ValueAst $v -Extent $pair.Item1.Extent -Command $label
                }
            }
            $i++
            continue
        }
        $positionalCount++
        $i++
    }
    if ($entry.Positional.Count -gt 0) {
        $free = $entry.Positional.Count - $namedPositional.Count
        if ($positionalCount -gt $free) {
            Add-ExtentFinding 'ps7-parameter-value' $Cmd.Extent ("{0}: {1} positional arguments; 5.1 binds at most {2} (-{3}). 7 passes the rest to -AdditionalChildPath (6.0); in 5.1 nest the calls." -f $label, $positionalCount, $free, ($entry.Positional -join ', -'))
        }
    }
}

# ---------------------------------------------------------------------------------------------------------------
# File checks
# ---------------------------------------------------------------------------------------------------------------
function Get-PositionInExtent {
    # Line/column of character Index inside an extent's text.
    param($Extent, [int]$Index)
    $before = $Extent.Text.Substring(0, $Index)
    $lines = @($before -split "`n")
    if ($lines.Count -eq 1) { return @{ Line = $Extent.StartLineNumber; Column = $Extent.StartColumnNumber + $Index } }
    return @{ Line = $Extent.StartLineNumber + $lines.Count - 1; Column = $lines[-1].Length + 1 }
}

function Test-Encoding {
    # 12.2: Windows PowerShell 5.1 reads a script without a BOM as ANSI; non-ASCII text must come with a UTF-8 BOM.
    param([string]$File)
    $bytes = [System.IO.File]::ReadAllBytes($File)
    if ($bytes.Length -ge 3 -and $bytes[0] -eq 0xEF -and $bytes[1] -eq 0xBB -and $bytes[2] -eq 0xBF) { return }
    if ($bytes.Length -ge 2 -and (($bytes[0] -eq 0xFF -and $bytes[1] -eq 0xFE) -or ($bytes[0] -eq 0xFE -and $bytes[1] -eq 0xFF))) { return }
    # Bytes that are not valid UTF-8 decode to U+FFFD, which is non-ASCII as well.
    $text = (New-Object System.Text.UTF8Encoding($false)).GetString($bytes)
    if (-not [regex]::IsMatch($text, '[^\x00-\x7F]')) { return }
    $lines = $text -split "`n"
    for ($i = 0; $i -lt $lines.Count; $i++) {
        $m = [regex]::Match($lines[$i], '[^\x00-\x7F]')
        if ($m.Success) {
            $line = $i + 1; $col = $m.Index + 1; $ch = $m.Value[0]
            Add-Finding -Rule 'non-ascii-no-bom' -Line $line -Column $col -Message ("non-ASCII character U+{0:X4} '{1}' in a file without a UTF-8 BOM: Windows PowerShell 5.1 reads it as ANSI (mojibake; a DBCS code page can even swallow the next character). Save as UTF-8 with BOM or use ASCII only." -f [int]$ch, $ch)
        }
    }
}

function Test-MemberExpression {
    # ?. (7.1) and .Split('multi-char') (behaviour change), on MemberExpressionAst / InvokeMemberExpressionAst.
    param($n)
    $type = $n.GetType().Name
    if ($HasNullConditional -and $n.NullConditional) {
        Add-OperatorFinding 'null-conditional' $n $n.Expression.Extent.EndOffset @('QuestionDot') 'null-conditional member access ?. (PowerShell 7.1); test for $null first.'
    }
    if ($type -eq 'InvokeMemberExpressionAst' -and -not $n.Static -and $n.Member.GetType().Name -eq 'StringConstantExpressionAst' -and $n.Member.Value -ieq 'Split') {
        $args0 = $null
        if ($null -ne $n.Arguments -and $n.Arguments.Count -ge 1) { $args0 = $n.Arguments[0] }
        if ($null -ne $args0 -and $args0.GetType().Name -eq 'StringConstantExpressionAst' -and $args0.Value.Length -gt 1) {
            Add-ExtentFinding 'string-split' $args0.Extent (".Split('{0}'): Windows PowerShell 5.1 splits on each of the characters, PowerShell 7 on the whole string. Use -split [regex]::Escape('{0}') or .Split([string[]]@('{0}'), [StringSplitOptions]::None)." -f $args0.Value)
        }
    }
}

function Test-StringEscape {
    # `u{XXXX} (6.0) in a double-quoted string; an escaped backtick (``u{) is not an escape.
    param($n)
    if ($n.Extent.Text.IndexOf('`u{') -lt 0) { return }
    $kind = $n.StringConstantType.ToString()
    if ($kind -eq 'DoubleQuoted' -or $kind -eq 'DoubleQuotedHereString') {
        foreach ($m in [regex]::Matches($n.Extent.Text, '(?<!`)(?:``)*(`u\{[0-9A-Fa-f]+\})')) {
            $pos = Get-PositionInExtent $n.Extent $m.Groups[1].Index
            Add-Finding -Rule 'unicode-escape' -Line $pos.Line -Column $pos.Column -Message ('{0} escape (PowerShell 6.0); 5.1 prints it literally. Use [char]0x.... instead.' -f $m.Groups[1].Value)
        }
    }
}

function Test-File {
    param([string]$File)
    $script:CurrentFile = $File
    $script:Seen = @{}
    $tokens = $null; $errors = $null
    $ast = [System.Management.Automation.Language.Parser]::ParseFile($File, [ref]$tokens, [ref]$errors)
    $script:Tokens = $tokens
    $script:FlatTokens = $null  # built on first use (operator positions)

    # '# ps51-ok: <reason>' suppresses findings that start on its line.
    $script:Suppressed = @{}
    # Comments are never nested in other tokens, so the top-level tokens are enough.
    foreach ($t in $script:Tokens) {
        if ($t.Text.StartsWith('#') -and $t.Text -match '^#\s*ps51-ok:\s*\S' -and $t.Kind.ToString() -eq 'Comment') {
            $script:Suppressed[$t.Extent.StartLineNumber] = $true
        }
    }

    foreach ($e in $errors) {
        Add-ExtentFinding 'parse-error' $e.Extent ('{0}: {1}' -f $e.ErrorId, $e.Message)
    }
    Test-Encoding -File $File

    $nodes = $ast.FindAll({ $true }, $true)
    $script:LocalFunctions = @{}
    $script:Assignments = New-Object System.Collections.Generic.List[object]
    $assignedVars = @{}
    foreach ($n in $nodes) {
        $type = $n.GetType().Name
        if ($type -eq 'FunctionDefinitionAst') { $script:LocalFunctions[$n.Name.ToLowerInvariant()] = $true }
        if ($type -eq 'AssignmentStatementAst') {
            $script:Assignments.Add($n)
            if ($n.Left.GetType().Name -eq 'VariableExpressionAst') { $assignedVars[($n.Left.VariablePath.UserPath -replace '^\w+:', '').ToLowerInvariant()] = $true }
        }
    }

    foreach ($n in $nodes) {
        $type = $n.GetType().Name
        switch ($type) {
            'TernaryExpressionAst' {
                Add-OperatorFinding 'ternary' $n $n.Condition.Extent.EndOffset @('QuestionMark') 'ternary operator ? : (PowerShell 7.0); use if/else.'
            }
            'PipelineChainAst' {
                Add-OperatorFinding 'pipeline-chain' $n $n.LhsPipelineChain.Extent.EndOffset @('AndAnd', 'OrOr') ("pipeline chain operator {0} (PowerShell 7.0); use if (`$?) / if (-not `$?) or check `$LASTEXITCODE." -f $(if ($n.Operator.ToString() -eq 'AndAnd') { '&&' } else { '||' }))
                if ($n.Background) {
                    Add-OperatorFinding 'background-operator' $n $n.RhsPipeline.Extent.EndOffset @('Ampersand') 'background operator & (PowerShell 6.0); use Start-Job.'
                }
            }
            'BinaryExpressionAst' {
                $op = $n.Operator.ToString()
                if ($op -eq 'QuestionQuestion') {
                    Add-ExtentFinding 'null-coalescing' $n.ErrorPosition 'null-coalescing operator ?? (PowerShell 7.0); use if ($null -eq $x) { ... } else { ... }.'
                }
                if (@('Ireplace', 'Creplace', 'Replace') -contains $op -and $n.Right.GetType().Name -eq 'ArrayLiteralAst') {
                    $els = $n.Right.Elements
                    if ($els.Count -ge 2 -and $els[1].GetType().Name -eq 'ScriptBlockExpressionAst') {
                        Add-ExtentFinding 'replace-scriptblock' $els[1].Extent '-replace with a scriptblock substitution (PowerShell 6.1); 5.1 converts the scriptblock to its text. Use [regex]::Replace($text, $pattern, { param($m) ... }).'
                    }
                }
            }
            'AssignmentStatementAst' {
                if ($n.Operator.ToString() -eq 'QuestionQuestionEquals') {
                    Add-ExtentFinding 'null-coalescing' $n.ErrorPosition 'null-coalescing assignment ??= (PowerShell 7.0); use if ($null -eq $x) { $x = ... }.'
                }
            }
            'MemberExpressionAst' { if ($HasNullConditional -and $n.NullConditional) { Test-MemberExpression $n } }
            'InvokeMemberExpressionAst' {
                if (($HasNullConditional -and $n.NullConditional) -or ($n.Member -is [System.Management.Automation.Language.StringConstantExpressionAst] -and $n.Member.Value -eq 'Split')) { Test-MemberExpression $n }
            }
            'IndexExpressionAst' {
                if ($HasIndexNullConditional -and $n.NullConditional) {
                    Add-OperatorFinding 'null-conditional' $n $n.Target.Extent.EndOffset @('QuestionLBracket') 'null-conditional index ?[] (PowerShell 7.1); test for $null first.'
                }
            }
            'PipelineAst' {
                if ($HasBackground -and $n.Background) {
                    $last = $n.PipelineElements[$n.PipelineElements.Count - 1]
                    Add-OperatorFinding 'background-operator' $n $last.Extent.EndOffset @('Ampersand') 'background operator & (PowerShell 6.0); use Start-Job.'
                }
            }
            'NamedBlockAst' {
                if ($n.BlockKind.ToString() -eq 'Clean') {
                    Add-ExtentFinding 'clean-block' $n.Extent 'clean {} block (PowerShell 7.3); use try/finally in end {}.'
                }
            }
            'CommandAst' { Test-Command $n }
            'VariableExpressionAst' {
                $var = $n.VariablePath.UserPath
                if ($var.IndexOf(':') -ge 0) { $var = $var -replace '^\w+:', '' }
                if ($Ps7Variables.ContainsKey($var)) {
                    $info = $Ps7Variables[$var]
                    if (-not ($info.Polyfill -and $assignedVars.ContainsKey($var.ToLowerInvariant()))) {
                        Add-ExtentFinding 'ps7-variable' $n.Extent ('${0} exists only in PowerShell {1}+: {2}.' -f $var, $info.Version, $info.Why)
                    }
                }
            }
            'StringConstantExpressionAst' { if ($n.Extent.Text.IndexOf('`u{') -ge 0) { Test-StringEscape $n } }
            'ExpandableStringExpressionAst' { if ($n.Extent.Text.IndexOf('`u{') -ge 0) { Test-StringEscape $n } }
        }
    }
}

# ---------------------------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------------------------
if ($ListRules) {
    $list = foreach ($k in $Rules.Keys) { [pscustomobject][ordered]@{ rule = $k; section = $Rules[$k].Section; summary = $Rules[$k].Summary } }
    if ($Json) { ConvertTo-Json -InputObject @($list) -Depth 5 } else { foreach ($r in $list) { '{0} (reference section {1}): {2}' -f $r.rule, $r.section, $r.summary } }
    exit 0
}
$allPaths = @(@($Path) + @($MorePath) | Where-Object { -not [string]::IsNullOrEmpty($_) })
if ($allPaths.Count -eq 0) {
    [Console]::Error.WriteLine('usage: check-ps51.ps1 -Path <file-or-folder>[,...] [-Json] | -ListRules')
    exit 2
}

$files = New-Object System.Collections.Generic.List[string]
foreach ($p in $allPaths) {
    if (-not (Test-Path -LiteralPath $p)) {
        [Console]::Error.WriteLine("check-ps51: path not found: $p")
        exit 2
    }
    $item = Get-Item -LiteralPath $p -Force
    if ($item.PSIsContainer) {
        Get-ChildItem -LiteralPath $item.FullName -Recurse -File -Force |
            Where-Object { $_.Extension -ieq '.ps1' -or $_.Extension -ieq '.psm1' } |
            Sort-Object FullName |
            ForEach-Object { $files.Add($_.FullName) }
    } else {
        $files.Add($item.FullName)
    }
}

foreach ($f in $files) { Test-File -File $f }

$sorted = @($script:Findings | Sort-Object path, line, column, rule)
if ($Json) {
    ConvertTo-Json -InputObject $sorted -Depth 5
} else {
    foreach ($x in $sorted) { '{0}:{1}:{2}: {3}: {4} (reference {5})' -f $x.path, $x.line, $x.column, $x.rule, $x.message, $x.section }
}
if ($sorted.Count -gt 0) { exit 1 }
exit 0
