    // The lab's model of wtsapi32.dll: it replaces the <wtsapi32> class of a host script's Add-Type source (see
    // commands/45-addtype.ps1). It lays memory out as Windows does - WTS_SESSION_INFOW and WTSINFOW field by field at
    // their native offsets, strings as separate allocations - so the script's own structs and marshalling are what
    // read it. The data is the current lab host's (Get-LabWtsTable in its runspace).
    public static class NativeMethods
    {
        const int ERROR_INVALID_PARAMETER = 87;
        const int ERROR_FILE_NOT_FOUND = 2;
        // Every buffer handed out and the strings it owns: WTSFreeMemory of anything else is heap corruption on
        // Windows, so the lab throws.
        static readonly Dictionary<IntPtr, List<IntPtr>> Owned = new Dictionary<IntPtr, List<IntPtr>>();

        public static int Outstanding { get { lock (Owned) { return Owned.Count; } } }

        static System.Collections.ObjectModel.Collection<System.Management.Automation.PSObject> Table()
        {
            using (var ps = System.Management.Automation.PowerShell.Create(System.Management.Automation.RunspaceMode.CurrentRunspace))
            {
                ps.AddCommand("Get-LabWtsTable");
                return ps.Invoke();
            }
        }

        static object Field(System.Management.Automation.PSObject row, string name)
        {
            var p = row.Properties[name];
            if (p == null) throw new InvalidOperationException("Get-LabWtsTable row has no " + name);
            return p.Value;
        }

        static int Refused(System.Collections.ObjectModel.Collection<System.Management.Automation.PSObject> rows)
        {
            // Get-LabWtsTable answers one { Win32Error } row when the session manager cannot be reached.
            if (rows.Count == 1 && rows[0].Properties["Win32Error"] != null) return Convert.ToInt32(rows[0].Properties["Win32Error"].Value);
            return 0;
        }

        static IntPtr Hand(IntPtr block, List<IntPtr> strings)
        {
            lock (Owned) { Owned.Add(block, strings); }
            return block;
        }

        static bool Fail(int code)
        {
            Marshal.SetLastPInvokeError(code);
            return false;
        }

        internal static bool WTSEnumerateSessionsW(IntPtr server, int reserved, int version, out IntPtr sessions, out int count)
        {
            sessions = IntPtr.Zero;
            count = 0;
            if (server != IntPtr.Zero) throw new NotSupportedException("lab wtsapi32: only WTS_CURRENT_SERVER_HANDLE (0) is modelled");
            if (reserved != 0 || version != 1) return Fail(ERROR_INVALID_PARAMETER);
            var rows = Table();
            int refused = Refused(rows);
            if (refused != 0) return Fail(refused);
            // WTS_SESSION_INFOW: DWORD SessionId; LPWSTR pWinStationName; WTS_CONNECTSTATE_CLASS State.
            int ptrAt = IntPtr.Size;                  // the pointer is aligned to its own size
            int stateAt = ptrAt + IntPtr.Size;
            int size = (stateAt + 4 + IntPtr.Size - 1) / IntPtr.Size * IntPtr.Size;
            IntPtr block = Marshal.AllocHGlobal(Math.Max(1, size * rows.Count));
            var strings = new List<IntPtr>();
            for (int i = 0; i < rows.Count; i++)
            {
                IntPtr at = new IntPtr(block.ToInt64() + (long)i * size);
                for (int b = 0; b < size; b++) Marshal.WriteByte(at, b, 0xCD);   // padding is garbage, as on Windows
                IntPtr name = Marshal.StringToHGlobalUni(Convert.ToString(Field(rows[i], "WinStation")));
                strings.Add(name);
                Marshal.WriteInt32(at, 0, Convert.ToInt32(Field(rows[i], "Id")));
                Marshal.WriteIntPtr(at, ptrAt, name);
                Marshal.WriteInt32(at, stateAt, Convert.ToInt32(Field(rows[i], "State")));
            }
            sessions = Hand(block, strings);
            count = rows.Count;
            return true;
        }

        static void WriteChars(IntPtr at, int offset, string text, int capacity)
        {
            // A WCHAR[capacity] field: the text cut to capacity - 1 characters, then NULs.
            text = text ?? "";
            if (text.Length > capacity - 1) text = text.Substring(0, capacity - 1);
            for (int c = 0; c < capacity; c++) Marshal.WriteInt16(at, offset + c * 2, (short)(c < text.Length ? text[c] : '\0'));
        }

        internal static bool WTSQuerySessionInformationW(IntPtr server, int sessionId, int infoClass, out IntPtr buffer, out int bytes)
        {
            buffer = IntPtr.Zero;
            bytes = 0;
            if (server != IntPtr.Zero) throw new NotSupportedException("lab wtsapi32: only WTS_CURRENT_SERVER_HANDLE (0) is modelled");
            System.Management.Automation.PSObject row = null;
            var rows = Table();
            int refused = Refused(rows);
            if (refused != 0) return Fail(refused);
            foreach (var r in rows) if (Convert.ToInt32(Field(r, "Id")) == sessionId) row = r;
            if (row == null) return Fail(ERROR_FILE_NOT_FOUND);
            if (infoClass == 5 || infoClass == 7)
            {
                // WTSUserName, WTSDomainName: one LPWSTR.
                string text = Convert.ToString(Field(row, infoClass == 5 ? "User" : "Domain"));
                buffer = Hand(Marshal.StringToHGlobalUni(text), new List<IntPtr>());
                bytes = (text.Length + 1) * 2;
                return true;
            }
            if (infoClass != 24) throw new NotSupportedException("lab wtsapi32: WTS_INFO_CLASS " + infoClass + " is not modelled (5, 7 and 24 are)");
            // WTSINFOW: 8 DWORDs (0-31), WinStationName[32] (32-95), Domain[17] (96-129), UserName[21] (130-171),
            // then five LARGE_INTEGERs aligned to 8: 176, 184, 192, 200, 208; 216 bytes in all.
            const int size = 216;
            IntPtr p = Marshal.AllocHGlobal(size);
            for (int b = 0; b < size; b++) Marshal.WriteByte(p, b, 0);
            Marshal.WriteInt32(p, 0, Convert.ToInt32(Field(row, "State")));
            Marshal.WriteInt32(p, 4, sessionId);
            WriteChars(p, 32, Convert.ToString(Field(row, "WinStation")), 32);
            WriteChars(p, 96, Convert.ToString(Field(row, "Domain")), 17);
            WriteChars(p, 130, Convert.ToString(Field(row, "User")), 21);
            Marshal.WriteInt64(p, 176, Convert.ToInt64(Field(row, "ConnectTime")));
            Marshal.WriteInt64(p, 184, Convert.ToInt64(Field(row, "DisconnectTime")));
            Marshal.WriteInt64(p, 192, Convert.ToInt64(Field(row, "LastInputTime")));
            Marshal.WriteInt64(p, 200, Convert.ToInt64(Field(row, "LogonTime")));
            Marshal.WriteInt64(p, 208, Convert.ToInt64(Field(row, "CurrentTime")));
            buffer = Hand(p, new List<IntPtr>());
            bytes = size;
            return true;
        }

        internal static void WTSFreeMemory(IntPtr memory)
        {
            List<IntPtr> strings;
            lock (Owned)
            {
                if (!Owned.TryGetValue(memory, out strings)) throw new InvalidOperationException("lab wtsapi32: WTSFreeMemory of memory it did not hand out (or freed twice): heap corruption on Windows");
                Owned.Remove(memory);
            }
            foreach (var s in strings) Marshal.FreeHGlobal(s);
            Marshal.FreeHGlobal(memory);
        }
    }
