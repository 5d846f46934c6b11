// C# binding of sellsync (include/sellsync.h): a thin P/Invoke wrapper.
//
// C# 7.3, no dependencies: builds for .NET Framework 4.x, Mono and .NET 6+.
// The native library is loaded as "sellsync" (libsellsync.so on Linux, sellsync.dll on
// Windows); see bindings/dotnet/README section in the project README.
//
// Ownership, as in the header:
// - strings in are converted to NUL-terminated UTF-8 byte arrays, borrowed for the call;
// - strings out arrive as a char* that is read as UTF-8 and freed with sellsync_string_free;
// - a failed call throws the SellSyncException subclass of its status code, with the message
//   of sellsync_last_error() read right after the call on the same thread;
// - the event and log callbacks are kept alive by their client; the library's `user` is a
//   GCHandle to a slot that refers to them weakly (so a callback referring to its client does
//   not keep the client from the finalizer), freed by the library's free_user callback;
// - an event callback that throws declines the event (it comes again);
// - clients still open when the process exits are closed then.

using System;
using System.Collections.Generic;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading;
using Microsoft.Win32.SafeHandles;

[assembly: InternalsVisibleTo("Tests")]

namespace SellSync
{
    /// <summary>Status codes of the C API (sellsync_status). Numbers are never reused.</summary>
    public enum Status
    {
        Ok = 0,
        InvalidArgument = 1,
        Config = 2,
        Auth = 3,
        Throttled = 4,
        Network = 5,
        Amazon = 6,
        Store = 7,
        NotFound = 8,
        Conflict = 9,
        Timeout = 10,
        Closed = 11,
        InvalidState = 12,
        Forked = 13,
        Internal = 14,
    }

    /// <summary>Flow bits for <see cref="SellSyncClient.SyncNow"/> (SELLSYNC_FLOW_*).</summary>
    [Flags]
    public enum Flows : uint
    {
        Orders = 1,
        Stock = 2,
        Listings = 4,
        Shipments = 8,
        All = 15,
    }

    /// <summary>Log levels (SELLSYNC_LOG_*): a callback gets lines at its level or more severe.</summary>
    public enum LogLevel
    {
        Error = 1,
        Warn = 2,
        Info = 3,
        Debug = 4,
    }

    /// <summary>A failed sellsync call: its status code and the library's message.</summary>
    public class SellSyncException : Exception
    {
        public SellSyncException(int code, string message) : base(message)
        {
            Code = code;
        }

        /// <summary>The status code (see <see cref="Status"/>).</summary>
        public int Code { get; private set; }

        /// <summary>The status code as an enum value.</summary>
        public Status Status { get { return (Status)Code; } }

        /// <summary>Builds the exception of a status code (the base class for an unknown code).</summary>
        public static SellSyncException FromStatus(int code, string message)
        {
            switch (code)
            {
                case 1: return new InvalidArgumentException(message);
                case 2: return new ConfigException(message);
                case 3: return new AuthException(message);
                case 4: return new ThrottledException(message);
                case 5: return new NetworkException(message);
                case 6: return new AmazonException(message);
                case 7: return new StoreException(message);
                case 8: return new NotFoundException(message);
                case 9: return new ConflictException(message);
                case 10: return new TimedOutException(message);
                case 11: return new ClosedException(message);
                case 12: return new InvalidStateException(message);
                case 13: return new ForkedException(message);
                case 14: return new InternalException(message);
                default: return new SellSyncException(code, message);
            }
        }
    }

    /// <summary>SELLSYNC_ERR_INVALID_ARGUMENT: NULL, not UTF-8, malformed JSON or out of range.</summary>
    public class InvalidArgumentException : SellSyncException { public InvalidArgumentException(string m) : base(1, m) { } }
    /// <summary>SELLSYNC_ERR_CONFIG: the configuration is incomplete or inconsistent.</summary>
    public class ConfigException : SellSyncException { public ConfigException(string m) : base(2, m) { } }
    /// <summary>SELLSYNC_ERR_AUTH: Amazon refused the credentials or the token.</summary>
    public class AuthException : SellSyncException { public AuthException(string m) : base(3, m) { } }
    /// <summary>SELLSYNC_ERR_THROTTLED: Amazon kept throttling after every retry.</summary>
    public class ThrottledException : SellSyncException { public ThrottledException(string m) : base(4, m) { } }
    /// <summary>SELLSYNC_ERR_NETWORK: Amazon could not be reached, or its answer was unreadable.</summary>
    public class NetworkException : SellSyncException { public NetworkException(string m) : base(5, m) { } }
    /// <summary>SELLSYNC_ERR_AMAZON: Amazon answered with an error.</summary>
    public class AmazonException : SellSyncException { public AmazonException(string m) : base(6, m) { } }
    /// <summary>SELLSYNC_ERR_STORE: the local store failed.</summary>
    public class StoreException : SellSyncException { public StoreException(string m) : base(7, m) { } }
    /// <summary>SELLSYNC_ERR_NOT_FOUND: no such order or item.</summary>
    public class NotFoundException : SellSyncException { public NotFoundException(string m) : base(8, m) { } }
    /// <summary>SELLSYNC_ERR_CONFLICT: the call contradicts what was recorded before.</summary>
    public class ConflictException : SellSyncException { public ConflictException(string m) : base(9, m) { } }
    /// <summary>SELLSYNC_ERR_TIMEOUT: the call did not finish in time (named so as not to clash with System.TimeoutException).</summary>
    public class TimedOutException : SellSyncException { public TimedOutException(string m) : base(10, m) { } }
    /// <summary>SELLSYNC_ERR_CLOSED: the handle is closed (also thrown by any call after Dispose).</summary>
    public class ClosedException : SellSyncException { public ClosedException(string m) : base(11, m) { } }
    /// <summary>SELLSYNC_ERR_INVALID_STATE: the call is not allowed now (e.g. Dispose from the event callback).</summary>
    public class InvalidStateException : SellSyncException { public InvalidStateException(string m) : base(12, m) { } }
    /// <summary>SELLSYNC_ERR_FORKED: the handle was opened in another process.</summary>
    public class ForkedException : SellSyncException { public ForkedException(string m) : base(13, m) { } }
    /// <summary>SELLSYNC_ERR_INTERNAL: a bug inside the library; the handle stays usable.</summary>
    public class InternalException : SellSyncException { public InternalException(string m) : base(14, m) { } }

    /// <summary>The native library is missing, or of a major version this binding does not speak.</summary>
    public class IncompatibleLibraryException : Exception
    {
        public IncompatibleLibraryException(string message, Exception inner) : base(message, inner) { }
    }

    /// <summary>The native handle: released with sellsync_close when not closed explicitly.</summary>
    public sealed class SellSyncSafeHandle : SafeHandleZeroOrMinusOneIsInvalid
    {
        internal SellSyncSafeHandle() : base(true) { }

        internal void Adopt(IntPtr h)
        {
            SetHandle(h);
        }

        protected override bool ReleaseHandle()
        {
            // The finalizer path (or Dispose of the handle itself). The library frees the
            // callbacks (free_user) and keeps a tombstone, so this never touches freed memory.
            Native.sellsync_close(handle);
            return true;
        }
    }

    internal static class Native
    {
        private const string Lib = "sellsync";

        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        internal delegate void EventCallback(IntPtr user, IntPtr eventJson);

        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        internal delegate void LogCallback(IntPtr user, int level, IntPtr message);

        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        internal delegate void FreeUser(IntPtr user);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] internal static extern IntPtr sellsync_version();
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] internal static extern uint sellsync_version_number();
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] internal static extern IntPtr sellsync_status_str(int code);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] internal static extern IntPtr sellsync_last_error();
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] internal static extern void sellsync_string_free(IntPtr s);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] internal static extern int sellsync_open(byte[] configJson, out IntPtr handle);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] internal static extern int sellsync_close(IntPtr h);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] internal static extern int sellsync_sync_now(IntPtr h, uint flows);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] internal static extern int sellsync_start(IntPtr h);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] internal static extern int sellsync_stop(IntPtr h);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] internal static extern int sellsync_order_next(IntPtr h, out IntPtr orderJson);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] internal static extern int sellsync_order_ack(IntPtr h, byte[] orderId, byte[] hostRef);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] internal static extern int sellsync_event_next(IntPtr h, int timeoutMs, out IntPtr eventJson);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] internal static extern int sellsync_event_ack(IntPtr h, long seq);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] internal static extern int sellsync_event_decline(IntPtr h, long seq);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] internal static extern int sellsync_set_event_callback(IntPtr h, EventCallback cb, IntPtr user, FreeUser freeUser);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] internal static extern int sellsync_set_log_callback(IntPtr h, int level, LogCallback cb, IntPtr user, FreeUser freeUser);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] internal static extern int sellsync_stock_set(IntPtr h, byte[] hostItem, long onHand);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] internal static extern int sellsync_stock_set_batch(IntPtr h, byte[] levelsJson);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] internal static extern int sellsync_sku_map(IntPtr h, byte[] mappingJson);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] internal static extern int sellsync_listings(IntPtr h, out IntPtr listingsJson);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] internal static extern int sellsync_fba_stock(IntPtr h, out IntPtr fbaJson);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] internal static extern int sellsync_notifications_setup(IntPtr h, out IntPtr setupJson);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] internal static extern int sellsync_shipment_confirm(IntPtr h, byte[] shipmentJson);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] internal static extern int sellsync_shipments(IntPtr h, byte[] orderId, out IntPtr shipmentsJson);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] internal static extern int sellsync_order_cancel(IntPtr h, byte[] orderId, byte[] reason);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] internal static extern int sellsync_order_cancel_items(IntPtr h, byte[] cancelJson);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] internal static extern int sellsync_order_refund(IntPtr h, byte[] refundJson);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] internal static extern int sellsync_price_set(IntPtr h, byte[] pricesJson);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] internal static extern int sellsync_price_confirm(IntPtr h, byte[] sku, byte[] marketplaceId);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] internal static extern int sellsync_prices(IntPtr h, out IntPtr pricesJson);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] internal static extern int sellsync_metrics(IntPtr h, byte[] queryJson, out IntPtr metricsJson);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] internal static extern int sellsync_state(IntPtr h, out IntPtr stateJson);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] internal static extern int sellsync_set_credentials(IntPtr h, byte[] credentialsJson);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] internal static extern int sellsync_purge_buyer_data(IntPtr h, byte[] orderId);
    }

    /// <summary>
    /// One seller account: a handle of the sellsync library. Thread-safe, like the handle.
    /// Dispose (or Close) stops the worker and the callback thread and flushes the store;
    /// every call afterwards throws <see cref="ClosedException"/>.
    /// </summary>
    public sealed class SellSyncClient : IDisposable
    {
        /// <summary>The major version of the C API this binding is written for.</summary>
        public const int VersionMajor = 0;

        // The trampolines the library calls; static, so they live as long as the process.
        private static readonly Native.EventCallback EventTrampoline = OnEvent;
        private static readonly Native.LogCallback LogTrampoline = OnLog;
        private static readonly Native.FreeUser FreeUserTrampoline = OnFreeUser;

        private static int versionChecked;
        private static long callbacksAlive;
        internal static long stringsTaken;
        internal static long stringsFreed;

        private readonly SellSyncSafeHandle handle;
        // The callbacks registered now (kept alive while registered; cleared by free_user).
        private Registration eventRegistration;
        private Registration logRegistration;

        /// <summary>Opens a handle for one seller account (sellsync_open; see the README's configuration).</summary>
        public SellSyncClient(string configJson)
        {
            EnsureCompatible();
            handle = new SellSyncSafeHandle();
            IntPtr h;
            int st = Native.sellsync_open(Utf8(configJson, "config_json"), out h);
            if (st == 0)
            {
                handle.Adopt(h);
                CloseAtExit(handle);
            }
            Check(st);
        }

        // Handles still open when the process exits: closed then, so the library's threads stop
        // before the runtime does (Mono does not exit while they run).
        private static readonly List<WeakReference> openHandles = new List<WeakReference>();
        private static bool exitHooked;

        private static void CloseAtExit(SellSyncSafeHandle h)
        {
            lock (openHandles)
            {
                if (!exitHooked) AppDomain.CurrentDomain.ProcessExit += (sender, e) => CloseOpenHandles();
                exitHooked = true;
                openHandles.RemoveAll(w => !w.IsAlive);
                openHandles.Add(new WeakReference(h));
            }
        }

        private static void CloseOpenHandles()
        {
            List<WeakReference> handles;
            lock (openHandles)
            {
                handles = new List<WeakReference>(openHandles);
                openHandles.Clear();
            }
            foreach (WeakReference w in handles)
            {
                var h = w.Target as SellSyncSafeHandle;
                if (h != null && !h.IsClosed) h.Dispose();
            }
        }

        /// <summary>The library's version, e.g. "0.1.0" (sellsync_version).</summary>
        public static string Version
        {
            get { EnsureCompatible(); return FromUtf8(Native.sellsync_version()); }
        }

        /// <summary>MAJOR * 10000 + MINOR * 100 + PATCH (sellsync_version_number).</summary>
        public static uint VersionNumber
        {
            get { return LoadVersionNumber(); }
        }

        /// <summary>The static text of a status code (sellsync_status_str).</summary>
        public static string StatusString(int code)
        {
            return FromUtf8(Native.sellsync_status_str(code));
        }

        /// <summary>
        /// The message of the last failed call on this thread (sellsync_last_error). The
        /// binding already puts it in each exception; this is for completeness.
        /// </summary>
        public static string LastError()
        {
            return FromUtf8(Native.sellsync_last_error());
        }

        /// <summary>How many callback registrations the library still holds, process-wide (0 after every handle is closed).</summary>
        public static long CallbacksAlive
        {
            get { return Interlocked.Read(ref callbacksAlive); }
        }

        /// <summary>True after Dispose or Close.</summary>
        public bool IsClosed
        {
            get { return handle.IsClosed; }
        }

        /// <summary>The safe handle (for hosts that pass it on); its pointer stays valid after close.</summary>
        public SellSyncSafeHandle Handle
        {
            get { return handle; }
        }

        /// <summary>
        /// Closes the handle (sellsync_close): stops the worker and the callback thread, wakes
        /// threads waiting in EventNext (they get ClosedException) and flushes the store. A
        /// second call does nothing. Throws InvalidStateException from inside the event callback.
        /// </summary>
        public void Close()
        {
            if (handle.IsClosed) return;
            int st = Native.sellsync_close(handle.DangerousGetHandle());
            if (st == (int)Status.Ok || st == (int)Status.Closed)
            {
                // Closed now: the finalizer must not close again.
                handle.SetHandleAsInvalid();
                return;
            }
            Throw(st);
        }

        /// <summary>Same as <see cref="Close"/>.</summary>
        public void Dispose()
        {
            Close();
        }

        /// <summary>Runs the flows once each and returns when they are done (sellsync_sync_now).</summary>
        public void SyncNow(Flows flows)
        {
            Check(Native.sellsync_sync_now(Ptr(), (uint)flows));
            GC.KeepAlive(this);
        }

        /// <summary>Runs every flow once (sellsync_sync_now with SELLSYNC_FLOW_ALL).</summary>
        public void SyncNow()
        {
            SyncNow(Flows.All);
        }

        /// <summary>Starts the background worker (sellsync_start). Idempotent.</summary>
        public void Start()
        {
            Check(Native.sellsync_start(Ptr()));
            GC.KeepAlive(this);
        }

        /// <summary>Stops the background worker and waits for it (sellsync_stop). Idempotent.</summary>
        public void Stop()
        {
            Check(Native.sellsync_stop(Ptr()));
            GC.KeepAlive(this);
        }

        /// <summary>The oldest order ready for the host as JSON, or null when there is none (sellsync_order_next).</summary>
        public string OrderNext()
        {
            IntPtr p;
            int st = Native.sellsync_order_next(Ptr(), out p);
            return TakeString(st, p);
        }

        /// <summary>The host has the order under its reference: never handed out again (sellsync_order_ack).</summary>
        public void OrderAck(string orderId, string hostRef)
        {
            Check(Native.sellsync_order_ack(Ptr(), Utf8(orderId, "order_id"), Utf8(hostRef, "host_ref")));
            GC.KeepAlive(this);
        }

        /// <summary>
        /// The oldest event not yet acknowledged as JSON, or null when none came within
        /// timeoutMs (0: do not wait, -1: wait until one arrives or the handle closes) (sellsync_event_next).
        /// </summary>
        public string EventNext(int timeoutMs)
        {
            IntPtr p;
            int st = Native.sellsync_event_next(Ptr(), timeoutMs, out p);
            return TakeString(st, p);
        }

        /// <summary>The host has acted on event seq: never handed out again (sellsync_event_ack).</summary>
        public void EventAck(long seq)
        {
            Check(Native.sellsync_event_ack(Ptr(), seq));
            GC.KeepAlive(this);
        }

        /// <summary>
        /// Sets (or with null removes) the event callback (sellsync_set_event_callback). It runs
        /// on one library thread and gets each event's JSON; the event is acknowledged when it
        /// returns. An exception it throws is caught (counted in <see cref="CallbackErrors"/>)
        /// and the event declined (sellsync_event_decline): it comes again after
        /// orders.redelivery_seconds. It must not call Close, Dispose or SetEventCallback.
        /// </summary>
        public void SetEventCallback(Action<string> callback)
        {
            if (callback == null)
            {
                Check(Native.sellsync_set_event_callback(Ptr(), null, IntPtr.Zero, null));
                GC.KeepAlive(this);
                return;
            }
            Registration r = new Registration(this, callback, null);
            int st = Native.sellsync_set_event_callback(Ptr(), EventTrampoline, r.User, FreeUserTrampoline);
            Register(ref eventRegistration, r, st);
        }

        /// <summary>
        /// Sets (or with null removes) the log function (sellsync_set_log_callback): it gets
        /// each line at level or more severe, on whichever thread writes it, possibly several
        /// at once, so it must be thread-safe. It must not call Close or SetLogCallback.
        /// </summary>
        public void SetLogCallback(LogLevel level, Action<LogLevel, string> callback)
        {
            if (callback == null)
            {
                Check(Native.sellsync_set_log_callback(Ptr(), (int)level, null, IntPtr.Zero, null));
                GC.KeepAlive(this);
                return;
            }
            Registration r = new Registration(this, null, callback);
            int st = Native.sellsync_set_log_callback(Ptr(), (int)level, LogTrampoline, r.User, FreeUserTrampoline);
            Register(ref logRegistration, r, st);
        }

        /// <summary>Exceptions thrown by this handle's callbacks (caught: they must not unwind into the library).</summary>
        public int CallbackErrors
        {
            get { return Thread.VolatileRead(ref callbackErrors); }
        }

        private int callbackErrors;

        /// <summary>Sets the absolute on-hand quantity of one host item (sellsync_stock_set).</summary>
        public void StockSet(string hostItem, long onHand)
        {
            Check(Native.sellsync_stock_set(Ptr(), Utf8(hostItem, "host_item"), onHand));
            GC.KeepAlive(this);
        }

        /// <summary>Sets several on-hand quantities, all or nothing: {"levels": [...]} (sellsync_stock_set_batch).</summary>
        public void StockSetBatch(string levelsJson)
        {
            Check(Native.sellsync_stock_set_batch(Ptr(), Utf8(levelsJson, "levels_json")));
            GC.KeepAlive(this);
        }

        /// <summary>Sets several on-hand quantities, all or nothing, from host item to quantity.</summary>
        public void StockSetBatch(IDictionary<string, long> levels)
        {
            StockSetBatch(levels, null);
        }

        /// <summary>Sets several on-hand quantities at one location (a store or warehouse), all or
        /// nothing, from host item to quantity there; Amazon sells the sum over
        /// <c>stock.amazon_locations</c>.</summary>
        public void StockSetBatch(IDictionary<string, long> levels, string location)
        {
            if (levels == null) throw new ArgumentNullException("levels");
            StringBuilder sb = new StringBuilder("{\"levels\":[");
            bool first = true;
            foreach (KeyValuePair<string, long> kv in levels)
            {
                if (!first) sb.Append(',');
                first = false;
                sb.Append("{\"host_item\":").Append(Json.Quote(kv.Key)).Append(",\"on_hand\":")
                  .Append(kv.Value.ToString(CultureInfo.InvariantCulture));
                if (location != null) sb.Append(",\"location\":").Append(Json.Quote(location));
                sb.Append('}');
            }
            StockSetBatch(sb.Append("]}").ToString());
        }

        /// <summary>Creates, replaces or removes SKU mappings, all or nothing (sellsync_sku_map).</summary>
        public void SkuMap(string mappingJson)
        {
            Check(Native.sellsync_sku_map(Ptr(), Utf8(mappingJson, "mapping_json")));
            GC.KeepAlive(this);
        }

        /// <summary>The seller's listings as last pulled, with their mapping state (sellsync_listings).</summary>
        public string Listings()
        {
            IntPtr p;
            int st = Native.sellsync_listings(Ptr(), out p);
            return TakeString(st, p);
        }

        /// <summary>The stock at Amazon of the SKUs it fulfils, as last read with the listings (sellsync_fba_stock).</summary>
        public string FbaStock()
        {
            IntPtr p;
            int st = Native.sellsync_fba_stock(Ptr(), out p);
            return TakeString(st, p);
        }

        /// <summary>Creates (or finds) the seller's notification destination and subscriptions for the configured queue; returns their ids (sellsync_notifications_setup).</summary>
        public string NotificationsSetup()
        {
            IntPtr p;
            int st = Native.sellsync_notifications_setup(Ptr(), out p);
            return TakeString(st, p);
        }

        /// <summary>Confirms a shipped package; sent to Amazon exactly once (sellsync_shipment_confirm).</summary>
        public void ShipmentConfirm(string shipmentJson)
        {
            Check(Native.sellsync_shipment_confirm(Ptr(), Utf8(shipmentJson, "shipment_json")));
            GC.KeepAlive(this);
        }

        /// <summary>The packages of one order, or (orderId null) of every order with a package not yet at Amazon (sellsync_shipments).</summary>
        public string Shipments(string orderId)
        {
            IntPtr p;
            int st = Native.sellsync_shipments(Ptr(), orderId == null ? null : Utf8(orderId, "order_id"), out p);
            return TakeString(st, p);
        }

        /// <summary>Every package not yet at Amazon (sellsync_shipments with NULL).</summary>
        public string Shipments()
        {
            return Shipments(null);
        }

        /// <summary>Cancels a whole unshipped order with one of Amazon's reasons (sellsync_order_cancel).</summary>
        public void OrderCancel(string orderId, string reason)
        {
            Check(Native.sellsync_order_cancel(Ptr(), Utf8(orderId, "order_id"), Utf8(reason, "reason")));
            GC.KeepAlive(this);
        }

        /// <summary>Replaces the client secret (and, if given, the refresh token or client id) of the open handle: {"client_secret": "..."} (sellsync_set_credentials).</summary>
        public void SetCredentials(string credentialsJson)
        {
            Check(Native.sellsync_set_credentials(Ptr(), Utf8(credentialsJson, "credentials_json")));
            GC.KeepAlive(this);
        }

        /// <summary>Deletes one order's buyer data (the recipient) at once and for good (sellsync_purge_buyer_data).</summary>
        public void PurgeBuyerData(string orderId)
        {
            Check(Native.sellsync_purge_buyer_data(Ptr(), Utf8(orderId, "order_id")));
            GC.KeepAlive(this);
        }

        /// <summary>Cancels the unshipped units of some items: {"order_id", "reason", "items"} (sellsync_order_cancel_items).</summary>
        public void OrderCancelItems(string cancelJson)
        {
            Check(Native.sellsync_order_cancel_items(Ptr(), Utf8(cancelJson, "cancel_json")));
            GC.KeepAlive(this);
        }

        /// <summary>Refunds items of an order (sellsync_order_refund).</summary>
        public void OrderRefund(string refundJson)
        {
            Check(Native.sellsync_order_refund(Ptr(), Utf8(refundJson, "refund_json")));
            GC.KeepAlive(this);
        }

        /// <summary>Sets prices per SKU and marketplace, all or nothing (sellsync_price_set): a price outside
        /// the seller's minimum and maximum throws InvalidArgumentException; a large change waits for
        /// PriceConfirm (event price.confirmation_needed).</summary>
        public void PriceSet(string pricesJson)
        {
            Check(Native.sellsync_price_set(Ptr(), Utf8(pricesJson, "prices_json")));
            GC.KeepAlive(this);
        }

        /// <summary>Confirms the price of sku in marketplaceId that waits for it (sellsync_price_confirm).</summary>
        public void PriceConfirm(string sku, string marketplaceId)
        {
            Check(Native.sellsync_price_confirm(Ptr(), Utf8(sku, "sku"), Utf8(marketplaceId, "marketplace_id")));
            GC.KeepAlive(this);
        }

        /// <summary>Every price set and where it stands, by SKU (sellsync_prices).</summary>
        public string Prices()
        {
            IntPtr p;
            int st = Native.sellsync_prices(Ptr(), out p);
            return TakeString(st, p);
        }

        /// <summary>Seller performance against Amazon's targets; queryJson may be null (sellsync_metrics).</summary>
        public string Metrics(string queryJson)
        {
            IntPtr p;
            int st = Native.sellsync_metrics(Ptr(), queryJson == null ? null : Utf8(queryJson, "query_json"), out p);
            return TakeString(st, p);
        }

        /// <summary>Seller performance with the default query.</summary>
        public string Metrics()
        {
            return Metrics(null);
        }

        /// <summary>Counts of orders, stock and every queue (sellsync_state).</summary>
        public string State()
        {
            IntPtr p;
            int st = Native.sellsync_state(Ptr(), out p);
            return TakeString(st, p);
        }

        // ---- internals ----

        /// <summary>
        /// The native pointer, or ClosedException after Dispose. The pointer is passed without
        /// holding a SafeHandle reference on purpose: Close must be able to run while another
        /// thread waits in EventNext(-1) (the library wakes it), and the library keeps a
        /// tombstone, so a call racing with Close gets SELLSYNC_ERR_CLOSED, never freed memory.
        /// </summary>
        private IntPtr Ptr()
        {
            if (handle.IsClosed) throw new ClosedException("the handle is closed (disposed)");
            return handle.DangerousGetHandle();
        }

        private string TakeString(int st, IntPtr p)
        {
            GC.KeepAlive(this);
            if (p != IntPtr.Zero) Interlocked.Increment(ref stringsTaken);
            try
            {
                Check(st);
                return FromUtf8(p);
            }
            finally
            {
                if (p != IntPtr.Zero)
                {
                    Native.sellsync_string_free(p);
                    Interlocked.Increment(ref stringsFreed);
                }
            }
        }

        private void Register(ref Registration slot, Registration r, int st)
        {
            GC.KeepAlive(this);
            if (st != (int)Status.Ok)
            {
                // The library called free_user already, or never will: release it once.
                r.Slot.Release();
                Throw(st);
            }
            Volatile.Write(ref slot, r);
        }

        /// <summary>
        /// One registered callback, held by its client. The library's `user` is a GCHandle to
        /// its <see cref="Slot"/>, which refers to it weakly: a callback that refers to its own
        /// client does not keep the client reachable, so the finalizer can still close it.
        /// </summary>
        private sealed class Registration
        {
            internal readonly SellSyncClient Owner;
            internal readonly Action<string> OnEvent;
            internal readonly Action<LogLevel, string> OnLog;
            internal readonly Slot Slot;

            internal Registration(SellSyncClient owner, Action<string> onEvent, Action<LogLevel, string> onLog)
            {
                Owner = owner;
                OnEvent = onEvent;
                OnLog = onLog;
                Slot = new Slot(owner.Ptr(), this);
            }

            internal IntPtr User
            {
                get { return Slot.User; }
            }
        }

        /// <summary>What `user` points at: the native handle and, weakly, the registration.</summary>
        private sealed class Slot
        {
            internal readonly IntPtr H;
            internal readonly IntPtr User;
            private readonly WeakReference registration;
            private GCHandle gch;
            private int released;

            internal Slot(IntPtr h, Registration r)
            {
                H = h;
                registration = new WeakReference(r);
                gch = GCHandle.Alloc(this);
                User = GCHandle.ToIntPtr(gch);
                Interlocked.Increment(ref callbacksAlive);
            }

            /// <summary>The registration, or null once its client was collected.</summary>
            internal Registration Registration
            {
                get { return (Registration)registration.Target; }
            }

            /// <summary>Frees the GCHandle (once) and forgets the registration on its owner.</summary>
            internal void Release()
            {
                if (Interlocked.Exchange(ref released, 1) != 0) return;
                Registration r = Registration;
                if (r != null)
                {
                    Interlocked.CompareExchange(ref r.Owner.eventRegistration, null, r);
                    Interlocked.CompareExchange(ref r.Owner.logRegistration, null, r);
                }
                gch.Free();
                Interlocked.Decrement(ref callbacksAlive);
            }
        }

        private static Slot FromUser(IntPtr user)
        {
            return (Slot)GCHandle.FromIntPtr(user).Target;
        }

        /// <summary>
        /// Hands an event to the callback; declines it (it comes again) when the callback threw
        /// or its client was collected before the finalizer closed it.
        /// </summary>
        private static void OnEvent(IntPtr user, IntPtr eventJson)
        {
            Slot slot = null;
            Registration r = null;
            try
            {
                slot = FromUser(user);
                r = slot.Registration;
                string doc = FromUtf8(eventJson);
                if (r == null)
                {
                    Decline(slot.H, doc);
                    return;
                }
                try
                {
                    r.OnEvent(doc);
                }
                catch (Exception)
                {
                    Interlocked.Increment(ref r.Owner.callbackErrors);
                    Decline(slot.H, doc);
                }
            }
            catch (Exception)
            {
                // Never unwind into the library.
                if (r != null) Interlocked.Increment(ref r.Owner.callbackErrors);
            }
        }

        private static void Decline(IntPtr h, string eventJson)
        {
            Native.sellsync_event_decline(h, (long)Json.Get(Json.Parse(eventJson), "seq"));
        }

        private static void OnLog(IntPtr user, int level, IntPtr message)
        {
            Registration r = null;
            try
            {
                r = FromUser(user).Registration;
                if (r != null) r.OnLog((LogLevel)level, FromUtf8(message));
            }
            catch (Exception)
            {
                if (r != null) Interlocked.Increment(ref r.Owner.callbackErrors);
            }
        }

        private static void OnFreeUser(IntPtr user)
        {
            try
            {
                FromUser(user).Release();
            }
            catch (Exception)
            {
                // Nothing sensible to do on a library thread.
            }
        }

        private static uint LoadVersionNumber()
        {
            try
            {
                return Native.sellsync_version_number();
            }
            catch (DllNotFoundException e)
            {
                throw new IncompatibleLibraryException(
                    "the sellsync native library was not found (libsellsync.so / sellsync.dll on the library path): " + e.Message, e);
            }
            catch (EntryPointNotFoundException e)
            {
                throw new IncompatibleLibraryException("the loaded sellsync library lacks sellsync_version_number: " + e.Message, e);
            }
        }

        private static void EnsureCompatible()
        {
            if (Volatile.Read(ref versionChecked) != 0) return;
            CheckVersion(LoadVersionNumber());
            Volatile.Write(ref versionChecked, 1);
        }

        /// <summary>Refuses a library of another major version than <see cref="VersionMajor"/>.</summary>
        internal static void CheckVersion(uint number)
        {
            uint major = number / 10000;
            if (major != VersionMajor)
            {
                throw new IncompatibleLibraryException(string.Format(CultureInfo.InvariantCulture,
                    "the sellsync library is version {0}.{1}.{2} (major {0}), but this binding needs major version {3}",
                    major, number / 100 % 100, number % 100, VersionMajor), null);
            }
        }

        private static void Check(int status)
        {
            if (status != 0) Throw(status);
        }

        private static void Throw(int status)
        {
            // Read at once, on the thread of the failed call.
            string message = FromUtf8(Native.sellsync_last_error());
            if (string.IsNullOrEmpty(message)) message = StatusString(status);
            throw SellSyncException.FromStatus(status, message);
        }

        /// <summary>A string in: NUL-terminated UTF-8 (null stays null, which the library refuses by name).</summary>
        internal static byte[] Utf8(string s, string name)
        {
            if (s == null) return null;
            if (s.IndexOf('\0') >= 0)
                throw new InvalidArgumentException(name + " contains a NUL character");
            int n = Encoding.UTF8.GetByteCount(s);
            byte[] b = new byte[n + 1];
            Encoding.UTF8.GetBytes(s, 0, s.Length, b, 0);
            return b;
        }

        /// <summary>A NUL-terminated UTF-8 string out (null for NULL).</summary>
        internal static string FromUtf8(IntPtr p)
        {
            if (p == IntPtr.Zero) return null;
            int n = 0;
            while (Marshal.ReadByte(p, n) != 0) n++;
            byte[] b = new byte[n];
            Marshal.Copy(p, b, 0, n);
            return Encoding.UTF8.GetString(b);
        }
    }

    /// <summary>
    /// Just enough JSON for the library's documents, without dependencies: Parse gives
    /// Dictionary&lt;string, object&gt;, List&lt;object&gt;, string, long, double, bool or null.
    /// </summary>
    public static class Json
    {
        /// <summary>A JSON string literal for s.</summary>
        public static string Quote(string s)
        {
            if (s == null) return "null";
            StringBuilder sb = new StringBuilder(s.Length + 2);
            sb.Append('"');
            foreach (char c in s)
            {
                switch (c)
                {
                    case '"': sb.Append("\\\""); break;
                    case '\\': sb.Append("\\\\"); break;
                    case '\n': sb.Append("\\n"); break;
                    case '\r': sb.Append("\\r"); break;
                    case '\t': sb.Append("\\t"); break;
                    default:
                        if (c < 0x20) sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                        else sb.Append(c);
                        break;
                }
            }
            return sb.Append('"').ToString();
        }

        /// <summary>Parses a JSON document (FormatException when it is not one).</summary>
        public static object Parse(string text)
        {
            if (text == null) throw new ArgumentNullException("text");
            int i = 0;
            object v = Value(text, ref i);
            Space(text, ref i);
            if (i != text.Length) throw new FormatException("JSON: trailing text at " + i);
            return v;
        }

        /// <summary>The member name of an object (null when absent or not an object).</summary>
        public static object Get(object obj, string name)
        {
            IDictionary<string, object> d = obj as IDictionary<string, object>;
            object v;
            return d != null && d.TryGetValue(name, out v) ? v : null;
        }

        private static void Space(string s, ref int i)
        {
            while (i < s.Length && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) i++;
        }

        private static object Value(string s, ref int i)
        {
            Space(s, ref i);
            if (i >= s.Length) throw new FormatException("JSON: unexpected end");
            char c = s[i];
            if (c == '{')
            {
                Dictionary<string, object> d = new Dictionary<string, object>();
                i++;
                Space(s, ref i);
                if (i < s.Length && s[i] == '}') { i++; return d; }
                while (true)
                {
                    Space(s, ref i);
                    string key = Str(s, ref i);
                    Space(s, ref i);
                    Expect(s, ref i, ':');
                    d[key] = Value(s, ref i);
                    Space(s, ref i);
                    if (i < s.Length && s[i] == ',') { i++; continue; }
                    Expect(s, ref i, '}');
                    return d;
                }
            }
            if (c == '[')
            {
                List<object> l = new List<object>();
                i++;
                Space(s, ref i);
                if (i < s.Length && s[i] == ']') { i++; return l; }
                while (true)
                {
                    l.Add(Value(s, ref i));
                    Space(s, ref i);
                    if (i < s.Length && s[i] == ',') { i++; continue; }
                    Expect(s, ref i, ']');
                    return l;
                }
            }
            if (c == '"') return Str(s, ref i);
            if (Word(s, ref i, "true")) return true;
            if (Word(s, ref i, "false")) return false;
            if (Word(s, ref i, "null")) return null;
            int start = i;
            while (i < s.Length && "+-0123456789.eE".IndexOf(s[i]) >= 0) i++;
            string num = s.Substring(start, i - start);
            long n;
            if (long.TryParse(num, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out n)) return n;
            double d2;
            if (num.Length > 0 && double.TryParse(num, NumberStyles.Float, CultureInfo.InvariantCulture, out d2)) return d2;
            throw new FormatException("JSON: unexpected character at " + start);
        }

        private static bool Word(string s, ref int i, string w)
        {
            if (string.CompareOrdinal(s, i, w, 0, w.Length) != 0) return false;
            i += w.Length;
            return true;
        }

        private static void Expect(string s, ref int i, char c)
        {
            if (i >= s.Length || s[i] != c) throw new FormatException("JSON: expected '" + c + "' at " + i);
            i++;
        }

        private static string Str(string s, ref int i)
        {
            Expect(s, ref i, '"');
            StringBuilder sb = new StringBuilder();
            while (true)
            {
                if (i >= s.Length) throw new FormatException("JSON: unterminated string");
                char c = s[i++];
                if (c == '"') return sb.ToString();
                if (c != '\\') { sb.Append(c); continue; }
                if (i >= s.Length) throw new FormatException("JSON: unterminated string");
                char e = s[i++];
                switch (e)
                {
                    case 'n': sb.Append('\n'); break;
                    case 't': sb.Append('\t'); break;
                    case 'r': sb.Append('\r'); break;
                    case 'b': sb.Append('\b'); break;
                    case 'f': sb.Append('\f'); break;
                    case 'u':
                        if (i + 4 > s.Length) throw new FormatException("JSON: bad \\u escape");
                        sb.Append((char)int.Parse(s.Substring(i, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                        i += 4;
                        break;
                    default: sb.Append(e); break;
                }
            }
        }
    }
}
