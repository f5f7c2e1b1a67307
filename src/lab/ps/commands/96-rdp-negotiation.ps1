# What the RDP listener answers to an X.224 Connection Request carrying an RDP Negotiation Request ([MS-RDPBCGR]
# 2.2.1.1, 2.2.1.2), as the controller's RDP probe sees it (src/rdp/probe.ts; the real-socket probe is
# src/rdp/negotiate.ts). Not a Windows command: nothing on a real host calls it. Read-only.
# Facts, sources and the harsher-side choices: docs/windows-facts/rdp-negotiation.md. In short:
#   no TCP answer (Get-LabReach)                 -> the connect's own outcome (timeout / unreachable)
#   fDenyTSConnections = 1 (policy wins)         -> the socket opens, then closes without a Connection Confirm [UNSOURCED]
#   SecurityLayer 0: TLS/CredSSP offered         -> SSL_NOT_ALLOWED_BY_SERVER
#                    RDP only, NLA required      -> HYBRID_REQUIRED_BY_SERVER (no client can connect) [INFERENCE]
#                    RDP only, NLA off           -> PROTOCOL_RDP
#   SecurityLayer 1/2: CredSSP offered           -> PROTOCOL_HYBRID
#                    no CredSSP, NLA required    -> HYBRID_REQUIRED_BY_SERVER
#                    TLS offered, NLA off        -> PROTOCOL_SSL
#                    RDP only, NLA off           -> PROTOCOL_RDP (1, Negotiate) / SSL_REQUIRED_BY_SERVER (2)
#   TLS or CredSSP selected: no certificate the listener can use (none bound / bound one in no store)
#                                                -> SSL_CERT_NOT_ON_SERVER [INFERENCE]
#                    certificate whose key TermService cannot use (Test-LabCertKeyReadable: missing, corrupt,
#                    NETWORK SERVICE without read) -> selected, then the TLS handshake is reset (Schannel 36870)
#                    otherwise                   -> TLS completes and serves the bound certificate (expired or not)

$script:LabNegFailure = @{ 1 = 'SSL_REQUIRED_BY_SERVER'; 2 = 'SSL_NOT_ALLOWED_BY_SERVER'; 3 = 'SSL_CERT_NOT_ON_SERVER'; 5 = 'HYBRID_REQUIRED_BY_SERVER' }

function Get-LabRdpCertificateInfo {
    <# The facts of the listener's certificate as the TLS handshake shows them (src/rdp/negotiate.ts CertificateInfo). #>
    param($Cert)
    return [ordered]@{
        subject = [string]$Cert.Subject; issuer = [string]$Cert.Issuer
        notBefore = (ConvertTo-LabLocalTime ([string]$Cert.NotBefore)).ToUniversalTime().ToString('yyyy-MM-ddTHH:mm:ss.fffZ', [cultureinfo]::InvariantCulture)
        notAfter = (ConvertTo-LabLocalTime ([string]$Cert.NotAfter)).ToUniversalTime().ToString('yyyy-MM-ddTHH:mm:ss.fffZ', [cultureinfo]::InvariantCulture)
        selfSigned = ([string]$Cert.Subject -eq [string]$Cert.Issuer)
        serialNumber = ([string]$Cert.SerialNumber).ToUpperInvariant(); thumbprint = ([string]$Cert.Thumbprint).ToUpperInvariant()
    }
}

function Get-LabRdpNegotiation {
    <# One result per offer (requestedProtocols), in order: @{ offered; outcome; selected; flags; failureCode; failure;
       tls; error; elapsedMs } as src/rdp/negotiate.ts reports a real listener. Reads the current lab host. #>
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)][int]$Port, [int[]]$Offer = @(3, 1, 0), [string]$Address, [int]$TimeoutMs = 5000)
    $reach = @(Get-LabReach -Port $Port -Address $Address -TimeoutMs $TimeoutMs)[0]
    $deny = (Get-LabTsSetting -LocalKey $script:LabTsKey -Name 'fDenyTSConnections' -Default 1).Value
    $layer = [int](Get-LabTsSetting -LocalKey $script:LabRdpTcpKey -Name 'SecurityLayer' -Default 1).Value
    # An absent UserAuthentication is NLA on (Windows Server 2012 and later: docs/windows-facts/nla-credssp.md).
    $nla = [int](Get-LabTsSetting -LocalKey $script:LabRdpTcpKey -Name 'UserAuthentication' -Default 1).Value -ne 0
    $cert = Find-LabBoundCert
    $latency = 0
    if ($null -ne $reach.latencyMs) { $latency = [double]$reach.latencyMs }
    foreach ($o in $Offer) {
        $a = [ordered]@{ offered = $o; outcome = $null; selected = $null; flags = $null; failureCode = $null; failure = $null; tls = $null; error = $null; elapsedMs = $latency }
        $tlsOffered = ($o -band 1) -ne 0
        $hybridOffered = ($o -band 2) -ne 0
        $fail = 0
        $pick = -1
        if (-not [bool]$reach.open) {
            $a.elapsedMs = $null
            if ([string]$reach.error -eq 'ETIMEDOUT') { $a.outcome = 'timeout'; $a.error = 'no TCP connection before the deadline'; $a.elapsedMs = $TimeoutMs }
            else { $a.outcome = 'unreachable'; $a.error = [string]$reach.error }
            $a
            continue
        }
        if ([int]$deny -eq 1) { $a.outcome = 'closed'; $a.error = 'the server closed the connection after 0 bytes'; $a; continue }
        if ($layer -eq 0) {
            if ($tlsOffered -or $hybridOffered) { $fail = 2 }
            elseif ($nla) { $fail = 5 }
            else { $pick = 0 }
        } else {
            if ($hybridOffered) { $pick = 2 }
            elseif ($nla) { $fail = 5 }
            elseif ($tlsOffered) { $pick = 1 }
            elseif ($layer -ge 2) { $fail = 1 }
            else { $pick = 0 }
        }
        if ($pick -gt 0 -and $null -eq $cert) { $fail = 3; $pick = -1 }
        if ($fail -ne 0) {
            $a.outcome = 'failure'; $a.failureCode = $fail; $a.failure = $script:LabNegFailure[$fail]
        } else {
            $a.outcome = 'selected'; $a.selected = $pick
            # EXTENDED_CLIENT_DATA_SUPPORTED and friends: Windows sets several flags; the probe does not judge them.
            $a.flags = 0
            if ($pick -gt 0) {
                if (Test-LabCertKeyReadable $cert) {
                    $a.tls = [ordered]@{ ok = $true; version = 'TLSv1.2'; certificate = (Get-LabRdpCertificateInfo $cert) }
                    if ([string]$cert.Subject -eq [string]$cert.Issuer) { $a.tls.untrustedBecause = 'DEPTH_ZERO_SELF_SIGNED_CERT' }
                    else { $a.tls.untrustedBecause = 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' }
                } else {
                    $a.tls = [ordered]@{ ok = $false; error = 'the server reset the connection during the TLS handshake' }
                }
            }
        }
        $a
    }
}
