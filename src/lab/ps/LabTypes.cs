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

namespace RdpfixLab
{
    using System;
    using System.Collections;
    using System.Collections.Generic;
    using System.Management.Automation;

    // Not a Windows type: the lab's store for a host's path-keyed maps (state.registry: key path -> values,
    // state.files: Windows path -> entry). PowerShell keeps a member binder, for the life of the process, for every
    // distinct name any object's note property ever had (ConvertFrom-Json, [pscustomobject], Add-Member alike), and
    // every host has its own SIDs and GUIDs in these paths: as note properties they cost about 19 KB a host that is
    // never given back (docs/performance.md). Keys are case-insensitive, as Windows paths are, and keep the case they
    // were stored with. An IDictionary, so ConvertTo-Json writes it as the JSON object it was read from.
    public sealed class LabMapEntry
    {
        internal LabMapEntry(string name, object value) { Name = name; Value = value; }
        public string Name { get; private set; }
        public object Value { get; set; }
    }

    public sealed class LabMap : IDictionary
    {
        readonly List<LabMapEntry> entries = new List<LabMapEntry>();
        readonly Dictionary<string, LabMapEntry> index = new Dictionary<string, LabMapEntry>(StringComparer.OrdinalIgnoreCase);

        /// <summary>The entry stored under name in any case, or null.</summary>
        public LabMapEntry Find(string name)
        {
            LabMapEntry e;
            if (name != null && index.TryGetValue(name, out e)) return e;
            return null;
        }

        /// <summary>Adds an entry; a name already stored (in any case) is an error, as Add-Member's is.</summary>
        public LabMapEntry Add(string name, object value)
        {
            if (name == null) throw new ArgumentNullException("name");
            if (index.ContainsKey(name)) throw new ArgumentException("The map already has an entry named '" + name + "'.");
            var e = new LabMapEntry(name, value);
            entries.Add(e);
            index.Add(name, e);
            return e;
        }

        /// <summary>Removes the entry stored under name in any case; false when there is none.</summary>
        public bool Remove(string name)
        {
            var e = Find(name);
            if (e == null) return false;
            index.Remove(name);
            entries.Remove(e);
            return true;
        }

        /// <summary>The entries in stored order, as a copy: callers may change the map while they walk it.</summary>
        public LabMapEntry[] GetEntries() { return entries.ToArray(); }

        public int Count { get { return entries.Count; } }

        // IDictionary, for ConvertTo-Json and for PowerShell's own handling of dictionaries.
        public object this[object key]
        {
            get { var e = Find(key as string); return e == null ? null : e.Value; }
            set { var e = Find((string)key); if (e == null) Add((string)key, value); else e.Value = value; }
        }
        public ICollection Keys { get { var k = new List<string>(entries.Count); foreach (var e in entries) k.Add(e.Name); return k; } }
        public ICollection Values { get { var v = new List<object>(entries.Count); foreach (var e in entries) v.Add(e.Value); return v; } }
        public bool IsReadOnly { get { return false; } }
        public bool IsFixedSize { get { return false; } }
        public bool IsSynchronized { get { return false; } }
        public object SyncRoot { get { return this; } }
        public bool Contains(object key) { return Find(key as string) != null; }
        void IDictionary.Add(object key, object value) { Add((string)key, value); }
        void IDictionary.Remove(object key) { Remove(key as string); }
        public void Clear() { entries.Clear(); index.Clear(); }
        public void CopyTo(Array array, int index)
        {
            foreach (var e in entries) array.SetValue(new DictionaryEntry(e.Name, e.Value), index++);
        }
        public IDictionaryEnumerator GetEnumerator()
        {
            var list = new List<DictionaryEntry>(entries.Count);
            foreach (var e in entries) list.Add(new DictionaryEntry(e.Name, e.Value));
            return new Enumerator(list);
        }
        IEnumerator IEnumerable.GetEnumerator() { return GetEnumerator(); }

        sealed class Enumerator : IDictionaryEnumerator
        {
            readonly List<DictionaryEntry> list;
            int at = -1;
            public Enumerator(List<DictionaryEntry> list) { this.list = list; }
            public bool MoveNext() { return ++at < list.Count; }
            public void Reset() { at = -1; }
            public DictionaryEntry Entry { get { return list[at]; } }
            public object Key { get { return list[at].Key; } }
            public object Value { get { return list[at].Value; } }
            public object Current { get { return list[at]; } }
        }
    }

    // Not a Windows type: turns a parsed host state into the lab's shape. PowerShell 7 parses it with
    // ConvertFrom-Json -AsHashtable, which makes no note properties and so no binders; this makes the objects the
    // lab's commands expect, except that state.registry and state.files become LabMaps. Windows PowerShell 5.1 has no
    // -AsHashtable: its objects come as they are and only the two maps are replaced.
    public static class LabStateShape
    {
        static readonly string[] MapNames = { "registry", "files" };

        public static PSObject FromParsed(object root)
        {
            var shaped = Shape(root, true) as PSObject;
            if (shaped == null) throw new InvalidOperationException("A lab host state must be a JSON object.");
            return shaped;
        }

        static bool IsMapName(string name)
        {
            foreach (var m in MapNames) if (string.Equals(m, name, StringComparison.OrdinalIgnoreCase)) return true;
            return false;
        }

        static object Shape(object node, bool top)
        {
            if (node == null) return null;
            var dict = node as IDictionary;
            if (dict != null)
            {
                var o = new PSObject();
                foreach (DictionaryEntry e in dict)
                {
                    var name = (string)e.Key;
                    o.Properties.Add(new PSNoteProperty(name, top && IsMapName(name) ? ToMap(e.Value) : Shape(e.Value, false)));
                }
                return o;
            }
            var ps = node as PSObject;
            if (ps != null && ps.BaseObject is PSCustomObject)
            {
                foreach (var p in ps.Properties)
                {
                    if (!(p is PSNoteProperty)) continue;
                    p.Value = top && IsMapName(p.Name) ? ToMap(p.Value) : Shape(p.Value, false);
                }
                return ps;
            }
            if (node is string) return node;
            var list = node as IList;
            if (list != null)
            {
                var a = new object[list.Count];
                for (int i = 0; i < a.Length; i++) a[i] = Shape(list[i], false);
                return a;
            }
            return node;
        }

        static object ToMap(object node)
        {
            if (node == null) return null;
            var map = new LabMap();
            var dict = node as IDictionary;
            if (dict != null)
            {
                foreach (DictionaryEntry e in dict) map.Add((string)e.Key, Shape(e.Value, false));
                return map;
            }
            var ps = node as PSObject;
            if (ps != null && ps.BaseObject is PSCustomObject)
            {
                foreach (var p in ps.Properties) if (p is PSNoteProperty) map.Add(p.Name, Shape(p.Value, false));
                return map;
            }
            throw new InvalidOperationException("A lab host state's map must be a JSON object.");
        }
    }
}
