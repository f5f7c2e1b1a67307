// Types the lab's shadows return or throw that exist only on Windows: the CDXML-generated enums of the
// NetConnection, NetSecurity and ScheduledTasks modules (copied from their cdxml <Enums> blocks; see
// docs/windows-facts/network-firewall-sessions-tasks.md) and PowerShell's ServiceCommandException.
// RdpfixLab.psm1 compiles this file once and caches the assembly (Add-Type costs seconds per compile).

namespace Microsoft.PowerShell.Commands {
    public class ServiceCommandException : System.SystemException {
        public ServiceCommandException() { }
        public ServiceCommandException(string message) : base(message) { }
        public ServiceCommandException(string message, System.Exception innerException) : base(message, innerException) { }
        public string ServiceName { get; set; }
    }
}

namespace Microsoft.PowerShell.Cmdletization.GeneratedTypes.NetConnectionProfile
{
    public enum NetworkCategory : uint { Public = 0, Private = 1, DomainAuthenticated = 2 }
    public enum IPv4Connectivity : uint { Disconnected = 0, NoTraffic = 1, Subnet = 2, LocalNetwork = 3, Internet = 4 }
    public enum IPv6Connectivity : uint { Disconnected = 0, NoTraffic = 1, Subnet = 2, LocalNetwork = 3, Internet = 4 }
    public enum DomainAuthenticationKind : uint { None = 0, Ldap = 1, Tls = 2 }
}

namespace Microsoft.PowerShell.Cmdletization.GeneratedTypes.NetSecurity
{
    public enum Enabled : ushort { True = 1, False = 2 }
    [System.Flags] public enum Profile : ushort { Any = 0, Domain = 1, Private = 2, Public = 4, NotApplicable = 65535 }
    public enum Direction : ushort { Inbound = 1, Outbound = 2 }
    public enum Action : ushort { NotConfigured = 0, Allow = 2, Block = 4 }
    public enum EdgeTraversal : ushort { Block = 0, Allow = 1, DeferToUser = 2, DeferToApp = 3 }
    public enum PrimaryStatus : ushort { Unknown = 0, OK = 1, Inactive = 2, Error = 3 }
    public enum PolicyStoreType : ushort { None = 0, Local = 1, GroupPolicy = 2, Dynamic = 3, Generated = 4, Hardcoded = 5 }
    public enum GpoBoolean : ushort { False = 0, True = 1, NotConfigured = 2 }
    [System.Flags] public enum DynamicTransport : uint { Any = 0, ProximityApps = 1, ProximitySharing = 2, WifiDirectPrinting = 4, WifiDirectDisplay = 8, WifiDirectDevices = 16 }
}

namespace Microsoft.PowerShell.Cmdletization.GeneratedTypes.ScheduledTask
{
    public enum StateEnum : int { Unknown = 0, Disabled = 1, Queued = 2, Ready = 3, Running = 4 }
    public enum CompatibilityEnum : int { At = 0, V1 = 1, Vista = 2, Win7 = 3, Win8 = 4 }
    public enum RunLevelEnum : int { Limited = 0, Highest = 1 }
    public enum ProcessTokenSidTypeEnum : int { None = 0, Unrestricted = 1, Default = 2 }
    public enum LogonTypeEnum : int { None = 0, Password = 1, S4U = 2, Interactive = 3, Group = 4, ServiceAccount = 5, InteractiveOrPassword = 6 }
    public enum MultipleInstancesEnum : int { Parallel = 0, Queue = 1, IgnoreNew = 2 }
}

namespace RdpfixLab
{
    using System;
    using System.Collections.Generic;
    using System.Management.Automation;
    using NS = Microsoft.PowerShell.Cmdletization.GeneratedTypes.NetSecurity;

    // Not a Windows type: the lab's bulk builder for what Get-NetFirewallRule and the Get-NetFirewall*Filter shadows
    // return (61-firewall.ps1 has the property lists and their sources). A host can hold tens of thousands of rules;
    // building each object in script costs a hundred times more.
    public static class LabFirewall
    {
        static string S(PSObject o, string name)
        {
            var p = o.Properties[name];
            return (p == null || p.Value == null) ? "" : p.Value.ToString();
        }

        static object E<T>(string value) where T : struct
        {
            T parsed;
            // PowerShell's -as: names (case-insensitive, flags as "A, B"), or $null.
            if (Enum.TryParse<T>(value, true, out parsed)) return parsed;
            return null;
        }

        // One value as a plain string, several as string[], none as 'Any' (ConvertTo-LabFwList).
        public static object List(string text)
        {
            var parts = new List<string>();
            foreach (var x in (text ?? "").Split(',')) { var t = x.Trim(); if (t.Length > 0) parts.Add(t); }
            if (parts.Count == 0) return "Any";
            if (parts.Count == 1) return parts[0];
            return parts.ToArray();
        }

        static PSObject Make(string cls, string[] names, object[] values)
        {
            var o = new PSObject();
            for (int i = 0; i < names.Length; i++) o.Properties.Add(new PSNoteProperty(names[i], values[i]));
            o.TypeNames.Insert(0, "Microsoft.Management.Infrastructure.CimInstance#" + cls);
            o.TypeNames.Insert(0, "Microsoft.Management.Infrastructure.CimInstance#root/standardcimv2/" + cls);
            return o;
        }

        static readonly string[] RuleNames = { "Name", "DisplayName", "Description", "DisplayGroup", "Group", "Enabled", "Profile", "Platform",
            "Direction", "Action", "EdgeTraversalPolicy", "LooseSourceMapping", "LocalOnlyMapping", "Owner", "PrimaryStatus", "Status",
            "EnforcementStatus", "PolicyStoreSource", "PolicyStoreSourceType", "InstanceID" };

        public static PSObject Rule(object item)
        {
            var r = PSObject.AsPSObject(item);
            var name = S(r, "Name");
            var gpo = S(r, "PolicyStoreSourceType") == "GroupPolicy";
            return Make("MSFT_NetFirewallRule", RuleNames, new object[] {
                name, S(r, "DisplayName"), S(r, "Description"), S(r, "DisplayGroup"), S(r, "Group"),
                E<NS.Enabled>(S(r, "Enabled")), E<NS.Profile>(S(r, "Profile")), new string[0],
                E<NS.Direction>(S(r, "Direction")), E<NS.Action>(S(r, "Action")), NS.EdgeTraversal.Block, false, false, null,
                NS.PrimaryStatus.OK, "The rule was parsed successfully from the store. (65536)", "NotApplicable",
                gpo ? "GroupPolicy" : "PersistentStore", E<NS.PolicyStoreType>(S(r, "PolicyStoreSourceType")), name });
        }

        public static PSObject[] Rules(object[] items)
        {
            var o = new PSObject[items.Length];
            for (int i = 0; i < items.Length; i++) o[i] = Rule(items[i]);
            return o;
        }

        static readonly string[] PortNames = { "Protocol", "LocalPort", "RemotePort", "IcmpType", "DynamicTarget", "InstanceID" };
        static readonly string[] AddressNames = { "LocalAddress", "RemoteAddress", "InstanceID" };
        static readonly string[] ApplicationNames = { "Program", "Package", "InstanceID" };
        static readonly string[] ServiceNames = { "Service", "InstanceID" };

        static string AnyIfEmpty(string s) { return s.Length == 0 ? "Any" : s; }

        public static PSObject[] Filters(string kind, object[] items)
        {
            var o = new PSObject[items.Length];
            for (int i = 0; i < items.Length; i++)
            {
                var r = PSObject.AsPSObject(items[i]);
                var id = S(r, "Name");
                switch (kind)
                {
                    case "Port": o[i] = Make("MSFT_NetProtocolPortFilter", PortNames, new object[] { S(r, "Protocol"), List(S(r, "LocalPort")), List(S(r, "RemotePort")), "Any", NS.DynamicTransport.Any, id }); break;
                    case "Address": o[i] = Make("MSFT_NetAddressFilter", AddressNames, new object[] { "Any", List(S(r, "RemoteAddress")), id }); break;
                    case "Application": o[i] = Make("MSFT_NetApplicationFilter", ApplicationNames, new object[] { AnyIfEmpty(S(r, "Program")), null, id }); break;
                    case "Service": o[i] = Make("MSFT_NetServiceFilter", ServiceNames, new object[] { AnyIfEmpty(S(r, "Service")), id }); break;
                    default: throw new ArgumentException("unknown filter kind " + kind);
                }
            }
            return o;
        }
    }
}

namespace Rdpfix.Lab {
    // X509Certificate2.get_PrivateKey() for the lab's certificate objects (71-certificates.ps1). PowerShell hides an
    // exception a property getter throws ($cert.PrivateKey is then $null), but a method call surfaces it as a
    // MethodInvocationException whose InnerException is the CryptographicException with the Windows HRESULT.
    // A CodeMethod does the same; a ScriptMethod would wrap it in a RuntimeException instead.
    public static class CertificateMethods {
        public static object get_PrivateKey(System.Management.Automation.PSObject instance) {
            try { return instance.Properties["PrivateKey"].Value; }
            catch (System.Management.Automation.GetValueInvocationException e) {
                System.Exception x = e;
                while (x != null && !(x is System.Security.Cryptography.CryptographicException)) x = x.InnerException;
                if (x != null) throw (System.Security.Cryptography.CryptographicException)x;
                throw;
            }
        }
    }
}
