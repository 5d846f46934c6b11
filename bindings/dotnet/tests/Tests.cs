// Tests of the C# binding against the real library and a running sellsync-emulator.
//
// usage: mono Tests.exe EMULATOR_URL WORK_DIR
//        mono Tests.exe EMULATOR_URL WORK_DIR forget   (a host that never disposes its client)
// Prints one line per test and "N passed, N failed"; exits 1 when any failed.

using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Net;
using System.Text;
using System.Threading;
using SellSync;

internal sealed class TestFailure : Exception
{
    public TestFailure(string message) : base(message) { }
}

internal static class Program
{
    private static string emulator;
    private static string workDir;
    private static int stores;

    private static int Main(string[] args)
    {
        if (args.Length != 2 && !(args.Length == 3 && args[2] == "forget"))
        {
            Console.Error.WriteLine("usage: Tests.exe EMULATOR_URL WORK_DIR [forget]");
            return 2;
        }
        emulator = args[0].TrimEnd('/');
        workDir = args[1];
        if (args.Length == 3) return ForgetfulHost();
        var tests = new List<KeyValuePair<string, Action>>
        {
            T("version is checked", Version),
            T("orders are taken and acknowledged", Orders),
            T("stock reaches the listing on Amazon", Stock),
            T("stock by location: Amazon sells the configured locations", StockByLocation),
            T("FBA stock is shown", FbaStock),
            T("prices within the guard rails", PricesWithinTheGuardRails),
            T("a shipment is confirmed on Amazon", Shipment),
            T("a cancellation reaches Amazon", Cancellation),
            T("metrics", Metrics),
            T("events by polling", EventsPolling),
            T("events by callback, freed on close", EventsCallback),
            T("log callback, freed when removed", LogCallback),
            T("errors map to their exception", Errors),
            T("a call after Dispose throws", AfterDispose),
            T("an event whose callback threw comes again", EventDeclined),
            T("a client its callbacks refer to is finalized and closed", FinalizedWithCallbacks),
            T("a client never disposed is closed when the process exits", ClosedAtExit),
            T("every string out is freed", StringsFreed),
            T("Hello, the README's program, takes each order once", Hello),
        };
        int passed = 0, failed = 0;
        foreach (var t in tests)
        {
            var watch = Stopwatch.StartNew();
            try
            {
                t.Value();
                passed++;
                Console.WriteLine("ok   {0} ({1} ms)", t.Key, watch.ElapsedMilliseconds);
            }
            catch (Exception e)
            {
                failed++;
                Console.WriteLine("FAIL {0}: {1}", t.Key, e is TestFailure ? e.Message : e.ToString());
            }
        }
        Console.WriteLine("{0} passed, {1} failed", passed, failed);
        return failed == 0 ? 0 : 1;
    }

    private static KeyValuePair<string, Action> T(string name, Action a)
    {
        return new KeyValuePair<string, Action>(name, a);
    }

    // ---- helpers ----

    private static void Assert(bool cond, string what)
    {
        if (!cond) throw new TestFailure(what);
    }

    private static E Throws<E>(Action a, string what) where E : Exception
    {
        try
        {
            a();
        }
        catch (E e)
        {
            return e;
        }
        catch (Exception e)
        {
            throw new TestFailure(what + ": expected " + typeof(E).Name + ", got " + e.GetType().Name + ": " + e.Message);
        }
        throw new TestFailure(what + ": expected " + typeof(E).Name + ", nothing thrown");
    }

    /// <summary>Polls cond until it holds or the deadline passes.</summary>
    private static void Eventually(Func<bool> cond, int seconds, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!cond())
        {
            if (DateTime.UtcNow > deadline) throw new TestFailure("not within " + seconds + " s: " + what);
        }
    }

    private static string Config()
    {
        return Config("");
    }

    /// <summary>A configuration with <paramref name="extra"/> (",\"key\":value..." or empty) added.</summary>
    private static string Config(string extra)
    {
        string store = Path.Combine(workDir, "store-" + Interlocked.Increment(ref stores) + ".sqlite");
        return "{\"store_path\":" + Json.Quote(store) + ",\"seller_id\":\"A2DEMOSELLER01\","
            + "\"marketplace_ids\":[\"ATVPDKIKX0DER\",\"A2EUQ1WTGCTBG2\"],"
            + "\"endpoint\":" + Json.Quote(emulator) + ",\"http_allow_insecure_loopback\":true,"
            + "\"credentials\":{\"client_id\":\"amzn1.application-oa2-client.emulator\","
            + "\"client_secret\":\"emulator-client-secret\",\"refresh_token\":\"Atzr|emulator-refresh-token\"},"
            + "\"http\":{\"timeout_ms\":5000,\"max_attempts\":8,\"backoff_initial_ms\":5,\"backoff_max_ms\":50}" + extra + "}";
    }

    private static string Control(string method, string path, string body)
    {
        using (var web = new WebClient())
        {
            web.Encoding = Encoding.UTF8;
            web.Headers[HttpRequestHeader.ContentType] = "application/json";
            return method == "GET"
                ? web.DownloadString(emulator + "/_emulator/" + path)
                : web.UploadString(emulator + "/_emulator/" + path, method, body);
        }
    }

    private static void SeedListing(string sku, int quantity)
    {
        Control("POST", "listings", "{\"listings\":[{\"sku\":" + Json.Quote(sku) + ",\"quantity\":" + quantity + ",\"price_cents\":1299}]}");
    }

    /// <summary>Places a paid order of one unit of sku, ten minutes old and visible to searches
    /// at once (these tests are about the binding, not Amazon's search lag); returns its id.</summary>
    private static string PlaceOrder(string sku)
    {
        var doc = Json.Parse(Control("POST", "orders", "{\"lines\":[[" + Json.Quote(sku) + ",1]],\"age_seconds\":600,\"search_lag_seconds\":0}"));
        var ids = (List<object>)Json.Get(doc, "order_ids");
        Assert(ids.Count == 1, "the emulator placed one order");
        return (string)ids[0];
    }

    private static string EmulatorOrderStatus(string orderId)
    {
        return (string)Json.Get(Json.Parse(Control("GET", "orders/" + orderId, null)), "status");
    }

    private static long EmulatorQuantity(string sku)
    {
        var listings = (List<object>)Json.Get(Json.Parse(Control("GET", "state", null)), "listings");
        foreach (var l in listings)
            if ((string)Json.Get(l, "sku") == sku) return (long)Json.Get(l, "quantity");
        throw new TestFailure("no listing " + sku);
    }

    /// <summary>Takes and acknowledges every order waiting; returns them by id.</summary>
    private static Dictionary<string, object> TakeAll(SellSyncClient s)
    {
        var taken = new Dictionary<string, object>();
        string doc;
        while ((doc = s.OrderNext()) != null)
        {
            var order = Json.Parse(doc);
            var id = (string)Json.Get(order, "order_id");
            s.OrderAck(id, "POS-" + id);
            taken[id] = order;
        }
        return taken;
    }

    private static string FirstItemId(object order)
    {
        return (string)Json.Get(((List<object>)Json.Get(order, "items"))[0], "order_item_id");
    }

    /// <summary>Syncs orders, takes every order, and returns the one with this id.</summary>
    private static object TakeOrder(SellSyncClient s, string orderId)
    {
        s.SyncNow(Flows.Orders);
        var taken = TakeAll(s);
        Assert(taken.ContainsKey(orderId), "order " + orderId + " was handed out");
        return taken[orderId];
    }

    /// <summary>Polls events (acknowledging each) until one satisfies match.</summary>
    private static object WaitForEvent(SellSyncClient s, Func<object, bool> match, Flows flows, int seconds, string what)
    {
        object found = null;
        Eventually(() =>
        {
            s.SyncNow(flows);
            string doc;
            while ((doc = s.EventNext(200)) != null)
            {
                var ev = Json.Parse(doc);
                s.EventAck((long)Json.Get(ev, "seq"));
                if (found == null && match(ev)) found = ev;
            }
            return found != null;
        }, seconds, what);
        return found;
    }

    // ---- tests ----

    private static void Version()
    {
        Assert(SellSyncClient.VersionNumber / 10000 == SellSyncClient.VersionMajor, "the library's major version");
        Assert(SellSyncClient.Version.StartsWith(SellSyncClient.VersionMajor + "."), "version string " + SellSyncClient.Version);
        SellSyncClient.CheckVersion(SellSyncClient.VersionNumber);
        var e = Throws<IncompatibleLibraryException>(() => SellSyncClient.CheckVersion(10203), "a library of major version 1");
        Assert(e.Message.Contains("1.2.3"), "the message names the version: " + e.Message);
        Assert(SellSyncClient.StatusString(8).Length > 0, "status text");
    }

    private static void Orders()
    {
        SeedListing("CS-ORDER", 100);
        var placed = new[] { PlaceOrder("CS-ORDER"), PlaceOrder("CS-ORDER"), PlaceOrder("CS-ORDER") };
        using (var s = new SellSyncClient(Config()))
        {
            s.SyncNow(Flows.Orders);
            var taken = TakeAll(s);
            foreach (var id in placed)
            {
                Assert(taken.ContainsKey(id), "order " + id + " taken");
                Assert((string)Json.Get(taken[id], "status") == "UNSHIPPED", "status of " + id);
                Assert(FirstItemId(taken[id]).Length > 0, "item id of " + id);
            }
            Assert(s.OrderNext() == null, "no order handed out again after ack");
            s.SyncNow(Flows.Orders);
            Assert(s.OrderNext() == null, "no order handed out again after another sync");
            s.OrderAck(placed[0], "POS-" + placed[0]); // the same reference again: fine
            var c = Throws<ConflictException>(() => s.OrderAck(placed[0], "OTHER"), "ack with another reference");
            Assert(c.Code == 9 && c.Message.Length > 0, "conflict code and message");
            Throws<NotFoundException>(() => s.OrderAck("111-0000000-0000000", "X"), "ack of an unknown order");
            var state = Json.Parse(s.State());
            Assert((long)Json.Get(Json.Get(state, "orders"), "acknowledged") >= 3, "state counts the acknowledged orders");
        }
    }

    private static void Stock()
    {
        SeedListing("CS-STOCK", 3);
        SeedListing("CS-STOCK-6", 1);
        using (var s = new SellSyncClient(Config()))
        {
            s.SkuMap("{\"mappings\":[{\"sku\":\"CS-STOCK\",\"items\":[{\"host_item\":\"CS-ITEM\"}]},"
                + "{\"sku\":\"CS-STOCK-6\",\"items\":[{\"host_item\":\"CS-ITEM\",\"units\":6}]}]}");
            s.StockSet("CS-ITEM", 17);
            Eventually(() =>
            {
                s.SyncNow(Flows.Stock);
                return EmulatorQuantity("CS-STOCK") == 17 && EmulatorQuantity("CS-STOCK-6") == 2;
            }, 60, "Amazon shows 17 and 2 (a 6-pack)");
            s.StockSetBatch(new Dictionary<string, long> { { "CS-ITEM", 30 } });
            Eventually(() =>
            {
                s.SyncNow(Flows.Stock);
                return EmulatorQuantity("CS-STOCK") == 30 && EmulatorQuantity("CS-STOCK-6") == 5;
            }, 60, "Amazon shows 30 and 5 after the batch");
            Throws<NotFoundException>(() => s.StockSet("NO-SUCH-ITEM", 1), "an item in no SKU");
            Throws<InvalidArgumentException>(() => s.StockSet("CS-ITEM", -1), "a negative quantity");
        }
    }

    private static void PricesWithinTheGuardRails()
    {
        Control("POST", "listings", "{\"listings\":[{\"sku\":\"CS-PRICE\",\"quantity\":5}]}");
        using (var s = new SellSyncClient(Config()))
        {
            s.SkuMap("{\"mappings\":[{\"sku\":\"CS-PRICE\",\"items\":[{\"host_item\":\"CS-P\"}]}]}");
            var e = Throws<InvalidArgumentException>(() => s.PriceSet("{\"prices\":[{\"sku\":\"CS-PRICE\","
                + "\"marketplace_id\":\"ATVPDKIKX0DER\",\"price\":\"9.99\",\"minimum\":\"10.00\"}]}"), "a price below the floor");
            Assert(e.Message.Contains("below the seller's minimum"), e.Message);
            s.PriceSet("{\"prices\":[{\"sku\":\"CS-PRICE\",\"marketplace_id\":\"ATVPDKIKX0DER\",\"price\":\"18.99\"}]}");
            Func<object> price = () => ((List<object>)Json.Get(Json.Get(Json.Parse(s.Prices()), "prices"), "CS-PRICE"))[0];
            Eventually(() =>
            {
                s.SyncNow(Flows.Stock);
                return (string)Json.Get(price(), "state") == "APPLIED";
            }, 60, "the price applied");
            Assert((string)Json.Get(Json.Get(price(), "amazon"), "price") == "18.99", "the price Amazon shows: " + s.Prices());
        }
    }

    private static void FbaStock()
    {
        Control("POST", "listings", "{\"listings\":[{\"sku\":\"CS-FBA\",\"quantity\":9,\"fba\":true,"
            + "\"fba_stock\":{\"inbound_shipped\":3}}]}");
        using (var s = new SellSyncClient(Config()))
        {
            Eventually(() =>
            {
                s.SyncNow(Flows.Listings);
                return Json.Get(Json.Parse(s.FbaStock()), "read_at") != null;
            }, 60, "the FBA stock read with the listings");
            object found = null;
            foreach (var sku in (List<object>)Json.Get(Json.Parse(s.FbaStock()), "skus"))
                if ((string)Json.Get(sku, "sku") == "CS-FBA") found = sku;
            Assert(found != null, "CS-FBA's stock at Amazon");
            Assert((long)Json.Get(found, "fulfillable") == 9 && (long)Json.Get(found, "inbound_shipped") == 3,
                "sellable and inbound: " + s.FbaStock());
        }
    }

    private static void StockByLocation()
    {
        SeedListing("CS-LOC", 50);
        using (var s = new SellSyncClient(Config(",\"stock\":{\"amazon_locations\":[\"STORE-1\",\"WAREHOUSE\"]}")))
        {
            s.SkuMap("{\"mappings\":[{\"sku\":\"CS-LOC\",\"items\":[{\"host_item\":\"CS-LOC-ITEM\"}]}]}");
            s.StockSetBatch(new Dictionary<string, long> { { "CS-LOC-ITEM", 3 } }, "STORE-1");
            s.StockSetBatch(new Dictionary<string, long> { { "CS-LOC-ITEM", 4 } }, "WAREHOUSE");
            s.StockSetBatch(new Dictionary<string, long> { { "CS-LOC-ITEM", 100 } }, "OUTLET");
            Eventually(() =>
            {
                s.SyncNow(Flows.Stock);
                return EmulatorQuantity("CS-LOC") == 7;
            }, 60, "Amazon sells the store's and the warehouse's units, not the outlet's");
            s.StockSetBatch(new Dictionary<string, long> { { "CS-LOC-ITEM", 0 } }, "STORE-1");
            Eventually(() =>
            {
                s.SyncNow(Flows.Stock);
                return EmulatorQuantity("CS-LOC") == 4;
            }, 60, "the store sold out: Amazon sells the warehouse's");
        }
    }

    private static void Shipment()
    {
        SeedListing("CS-SHIP", 10);
        string id = PlaceOrder("CS-SHIP");
        using (var s = new SellSyncClient(Config()))
        {
            var order = TakeOrder(s, id);
            string shipment = "{\"order_id\":" + Json.Quote(id) + ",\"carrier_code\":\"UPS\",\"shipping_method\":\"Ground\","
                + "\"tracking_number\":\"1Z999AA10123456784\",\"items\":[{\"order_item_id\":" + Json.Quote(FirstItemId(order)) + ",\"quantity\":1}]}";
            s.ShipmentConfirm(shipment);
            Throws<InvalidArgumentException>(() => s.ShipmentConfirm(shipment.Replace("1Z999", "2Z999")),
                "a second package with nothing left to ship");
            Eventually(() =>
            {
                s.SyncNow(Flows.Shipments);
                return s.Shipments(id).Contains("\"state\":\"SENT\"");
            }, 60, "the package is SENT");
            Assert(EmulatorOrderStatus(id) == "Shipped", "Amazon has the order shipped");
            Assert(!s.Shipments().Contains(id), "no package of the order waits");
        }
    }

    private static void Cancellation()
    {
        SeedListing("CS-CANCEL", 10);
        string id = PlaceOrder("CS-CANCEL");
        using (var s = new SellSyncClient(Config()))
        {
            TakeOrder(s, id);
            s.OrderCancel(id, "NoInventory");
            s.OrderCancel(id, "NoInventory"); // again: succeeds, sends nothing more
            WaitForEvent(s, ev => (string)Json.Get(ev, "type") == "adjustment.done" && (string)Json.Get(ev, "order_id") == id,
                Flows.Shipments, 90, "adjustment.done for " + id);
            Assert(EmulatorOrderStatus(id) == "Canceled", "Amazon has the order cancelled");
            Throws<InvalidArgumentException>(() => s.OrderCancel(id, "NoSuchReason"), "an unknown reason");
        }
    }

    private static void Metrics()
    {
        SeedListing("CS-METRICS", 10);
        PlaceOrder("CS-METRICS");
        using (var s = new SellSyncClient(Config()))
        {
            s.SyncNow(Flows.Orders);
            var doc = Json.Parse(s.Metrics());
            var names = new List<string>();
            long denominator = -1;
            foreach (var mp in (List<object>)Json.Get(doc, "marketplaces"))
            {
                if ((string)Json.Get(mp, "marketplace_id") != "ATVPDKIKX0DER") continue;
                foreach (var m in (List<object>)Json.Get(mp, "metrics"))
                {
                    names.Add((string)Json.Get(m, "name"));
                    if ((string)Json.Get(m, "name") == "cancellation_rate") denominator = (long)Json.Get(m, "denominator");
                }
            }
            Assert(names.Contains("cancellation_rate") && names.Contains("late_shipment_rate") && names.Contains("refund_rate"),
                "the three metrics: " + string.Join(",", names.ToArray()));
            Assert(denominator >= 1, "orders bought in the window count: " + denominator);
            Assert(Json.Get(doc, "at_risk") != null, "at_risk");
            Assert(Json.Parse(s.Metrics("{\"horizon_hours\":48}")) != null, "a query");
            var e = Throws<InvalidArgumentException>(() => s.Metrics("{\"horizon_hours\":100000}"), "horizon out of range");
            Assert(e.Message.Contains("horizon_hours"), "the message names the field: " + e.Message);
        }
    }

    private static void EventsPolling()
    {
        SeedListing("CS-EVENTS", 10);
        string id = PlaceOrder("CS-EVENTS");
        using (var s = new SellSyncClient(Config()))
        {
            s.SyncNow(Flows.Orders);
            var types = new List<string>();
            bool ready = false;
            string doc;
            while ((doc = s.EventNext(0)) != null)
            {
                var ev = Json.Parse(doc);
                types.Add((string)Json.Get(ev, "type"));
                if ((string)Json.Get(ev, "type") == "order.ready" && (string)Json.Get(ev, "order_id") == id) ready = true;
                s.EventAck((long)Json.Get(ev, "seq"));
            }
            Assert(ready, "order.ready for " + id + " among " + string.Join(",", types.ToArray()));
            Assert(types.Contains("sync.completed"), "sync.completed");
            Assert(s.EventNext(50) == null, "nothing after every event is acknowledged (timeout gives null)");
            Throws<InvalidArgumentException>(() => s.EventAck(0), "seq 0");
            Throws<NotFoundException>(() => s.EventAck(long.MaxValue), "a seq never handed out");
            // A thread waiting without a deadline is woken by Dispose.
            Exception seen = null;
            var waiter = new Thread(() =>
            {
                try { s.EventNext(-1); }
                catch (Exception e) { seen = e; }
            });
            waiter.Start();
            s.Dispose();
            Assert(waiter.Join(30000), "the waiting thread returns after Dispose");
            Assert(seen is ClosedException, "it got ClosedException, got " + (seen == null ? "nothing" : seen.GetType().Name));
        }
    }

    private static void EventsCallback()
    {
        SeedListing("CS-CALLBACK", 10);
        string id = PlaceOrder("CS-CALLBACK");
        long before = SellSyncClient.CallbacksAlive;
        var got = new List<string>();
        var gate = new object();
        var s = new SellSyncClient(Config());
        try
        {
            int replacedCalls = 0;
            int disposeRefused = 0;
            s.SetEventCallback(doc => Interlocked.Increment(ref replacedCalls));
            Assert(SellSyncClient.CallbacksAlive == before + 1, "one registration held");
            s.SetEventCallback(doc =>
            {
                lock (gate) { got.Add(doc); Monitor.PulseAll(gate); }
                if (doc.Contains("\"order.ready\""))
                {
                    s.OrderNext(); // calling back into the library works
                    try { s.Dispose(); }
                    catch (InvalidStateException) { Interlocked.Increment(ref disposeRefused); }
                }
                if (doc.Contains("\"sync.completed\"")) throw new InvalidOperationException("a host bug");
            });
            Assert(SellSyncClient.CallbacksAlive == before + 1, "the replaced callback was freed");
            s.SyncNow(Flows.Orders);
            var deadline = DateTime.UtcNow.AddSeconds(30);
            lock (gate)
            {
                while (!got.Exists(d => d.Contains("\"order.ready\"") && d.Contains(id)))
                {
                    var left = deadline - DateTime.UtcNow;
                    Assert(left > TimeSpan.Zero, "order.ready reached the callback");
                    Monitor.Wait(gate, left);
                }
            }
            Eventually(() => s.CallbackErrors >= 1, 30, "the callback's exception was caught and counted");
            Assert(Thread.VolatileRead(ref disposeRefused) >= 1 && !s.IsClosed, "Dispose inside the callback is refused (InvalidStateException)");
            Assert(s.EventNext(0) == null, "events taken by the callback are acknowledged");
        }
        finally
        {
            s.Dispose();
        }
        Assert(SellSyncClient.CallbacksAlive == before, "free_user released the callback on close (" + SellSyncClient.CallbacksAlive + " alive)");
    }

    private static void LogCallback()
    {
        long before = SellSyncClient.CallbacksAlive;
        var lines = new List<string>();
        using (var s = new SellSyncClient(Config()))
        {
            s.SetLogCallback(LogLevel.Debug, (level, line) => { lock (lines) lines.Add(level + " " + line); });
            Assert(SellSyncClient.CallbacksAlive == before + 1, "one registration held");
            s.SyncNow(Flows.Orders);
            lock (lines) Assert(lines.Count > 0, "log lines arrived");
            s.SetLogCallback(LogLevel.Debug, null);
            Assert(SellSyncClient.CallbacksAlive == before, "removing the log callback freed it");
            int n;
            lock (lines) n = lines.Count;
            s.SyncNow(Flows.Orders);
            lock (lines) Assert(lines.Count == n, "no lines after removal");
            var e = Throws<InvalidArgumentException>(() => s.SetLogCallback((LogLevel)9, (l, m) => { }), "level 9");
            Assert(e.Message.Contains("level"), "the message: " + e.Message);
            Assert(SellSyncClient.CallbacksAlive == before, "a refused registration is released");
        }
    }

    private static void Errors()
    {
        var e = Throws<InvalidArgumentException>(() => new SellSyncClient("{not json"), "invalid JSON config");
        Assert(e.Code == 1 && e.Status == Status.InvalidArgument, "code 1");
        Assert(e.Message.Length > 0 && e.Message != SellSyncClient.StatusString(1), "a message from the library: " + e.Message);
        var c = Throws<ConfigException>(() => new SellSyncClient(Config().Replace("\"timeout_ms\":5000", "\"timeout_ms\":0")), "timeout out of range");
        Assert(c.Code == 2 && c.Message.Contains("timeout_ms"), "config message names the setting: " + c.Message);
        using (var s = new SellSyncClient(Config()))
        {
            var j = Throws<InvalidArgumentException>(() => s.SkuMap("{\"mappings\":"), "invalid JSON");
            Assert(j.Message.Length > 0, "message");
            Throws<InvalidArgumentException>(() => s.StockSetBatch("{\"levels\":[{\"host_item\":\"X\",\"on_hand\":\"7\"}]}"), "a quantity as a string");
            Throws<InvalidArgumentException>(() => s.ShipmentConfirm(null), "NULL");
            Throws<InvalidArgumentException>(() => s.OrderAck("a\0b", "x"), "a NUL inside a string");
            Throws<NotFoundException>(() => s.ShipmentConfirm("{\"order_id\":\"111-0000000-0000000\",\"carrier_code\":\"DHL\","
                + "\"tracking_number\":\"1\",\"items\":[{\"order_item_id\":\"1\",\"quantity\":1}]}"), "an unknown order");
            // Non-ASCII text goes in and comes back as UTF-8.
            var n = Throws<NotFoundException>(() => s.StockSet("Käse-€", 1), "an item in no SKU");
            Assert(n.Message.Contains("Käse-€"), "UTF-8 both ways: " + n.Message);
        }
        // Every code has its own class.
        var seen = new HashSet<Type>();
        for (int code = 1; code <= 14; code++)
        {
            var x = SellSyncException.FromStatus(code, "m");
            Assert(x.Code == code && x.GetType() != typeof(SellSyncException) && seen.Add(x.GetType()), "class of code " + code);
            Assert(x.GetType().Name.ToLowerInvariant().Replace("exception", "").Length > 0, "named");
        }
        Assert(SellSyncException.FromStatus(8, "m") is NotFoundException, "NOT_FOUND is NotFoundException");
        Assert(SellSyncException.FromStatus(99, "m").GetType() == typeof(SellSyncException), "an unknown code");
    }

    private static void EventDeclined()
    {
        SeedListing("CS-DECLINE", 10);
        string id = PlaceOrder("CS-DECLINE");
        var ready = new List<string>();
        using (var s = new SellSyncClient(Config(",\"orders\":{\"redelivery_seconds\":1}")))
        {
            s.SetEventCallback(doc =>
            {
                if (!doc.Contains("\"order.ready\"") || !doc.Contains(id)) return;
                lock (ready)
                {
                    ready.Add(id);
                    if (ready.Count == 1) throw new InvalidOperationException("the till's database is locked");
                }
            });
            s.SyncNow(Flows.Orders);
            Eventually(() => { lock (ready) return ready.Count >= 2; }, 30, "the event whose callback threw, again");
            s.SetEventCallback(null);
            Assert(s.CallbackErrors == 1, "one exception counted, " + s.CallbackErrors);
        }
    }

    private static void FinalizedWithCallbacks()
    {
        long before = SellSyncClient.CallbacksAlive;
        // On a thread of its own, whose stack is gone when it ends: Mono scans stacks
        // conservatively, so a reference left on this one could keep the client alive.
        var forgetting = new Thread(Forget);
        forgetting.Start();
        forgetting.Join();
        Assert(SellSyncClient.CallbacksAlive == before + 2, "two registrations held");
        Eventually(() =>
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            return SellSyncClient.CallbacksAlive == before;
        }, 30, "the finalizer closing the client its callbacks refer to");
    }

    private static void Forget()
    {
        var s = new SellSyncClient(Config());
        s.SetEventCallback(doc => s.EventAck((long)Json.Get(Json.Parse(doc), "seq")));
        s.SetLogCallback(LogLevel.Error, (level, line) => s.State());
    }

    // The forgetful host of ClosedAtExit: a started client, reachable to the end, never disposed.
    private static SellSyncClient forgotten;

    private static int ForgetfulHost()
    {
        forgotten = new SellSyncClient(Config());
        forgotten.SetEventCallback(doc => forgotten.State());
        forgotten.SetLogCallback(LogLevel.Debug, (level, line) => { });
        forgotten.Start();
        forgotten.SyncNow(Flows.Orders);
        Console.WriteLine("leaving Main");
        return 0;
    }

    private static void ClosedAtExit()
    {
        var dir = Path.Combine(workDir, "forget");
        Directory.CreateDirectory(dir);
        var info = new ProcessStartInfo("mono", "--debug \"" + typeof(Program).Assembly.Location + "\" \""
            + emulator + "\" \"" + dir + "\" forget")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
        };
        using (var p = Process.Start(info))
        {
            // Its few lines fit the pipe: wait first, bounded, then read.
            bool exited = p.WaitForExit(60000);
            if (!exited) p.Kill();
            Assert(exited, "the forgetful host exits within 60 s");
            string output = p.StandardOutput.ReadToEnd();
            Assert(p.ExitCode == 0 && output.Contains("leaving Main"), "it ran: " + p.ExitCode + " " + output);
        }
        // Closed, the store was checkpointed: its write-ahead log is empty.
        var wal = new FileInfo(Path.Combine(dir, "store-1.sqlite-wal"));
        Assert(new FileInfo(Path.Combine(dir, "store-1.sqlite")).Exists, "the forgetful host's store");
        Assert(!wal.Exists || wal.Length == 0, "the store was closed at exit (write-ahead log of " + (wal.Exists ? wal.Length : 0) + " bytes)");
    }

    private static void AfterDispose()
    {
        var s = new SellSyncClient(Config());
        Assert(s.State().Length > 0, "state");
        s.Dispose();
        Assert(s.IsClosed, "closed");
        s.Dispose(); // again: fine
        var e = Throws<ClosedException>(() => s.OrderNext(), "order_next after Dispose");
        Assert(e.Code == 11 && e.Message.Length > 0, "code and message");
        Throws<ClosedException>(() => s.SyncNow(Flows.Orders), "sync after Dispose");
        Throws<ClosedException>(() => s.SetEventCallback(d => { }), "set callback after Dispose");
        // The pointer itself, used after close, answers CLOSED from the library.
        var stale = new SellSyncClient(Config());
        IntPtr p = stale.Handle.DangerousGetHandle();
        stale.Close();
        Assert(NativeProbe.sellsync_start(p) == 11, "the library's tombstone answers SELLSYNC_ERR_CLOSED");
    }

    /// <summary>Runs Hello.exe (built beside Tests.exe) as a user would; returns its output.</summary>
    private static string RunHello(string configFile)
    {
        var hello = Path.Combine(AppDomain.CurrentDomain.BaseDirectory, "Hello.exe");
        var start = new ProcessStartInfo("mono", "\"" + hello + "\" \"" + configFile + "\"")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using (var p = Process.Start(start))
        {
            var stderr = p.StandardError.ReadToEndAsync();
            string output = p.StandardOutput.ReadToEnd();
            Assert(p.WaitForExit(300000), "Hello.exe ended");
            Assert(p.ExitCode == 0, "Hello.exe exit code 0, not " + p.ExitCode + ": " + output + stderr.Result);
            return output;
        }
    }

    private static void Hello()
    {
        SeedListing("CS-HELLO", 10);
        var placed = new[] { PlaceOrder("CS-HELLO"), PlaceOrder("CS-HELLO") };
        string configFile = Path.Combine(workDir, "hello.json");
        File.WriteAllText(configFile, Config());
        string first = RunHello(configFile);
        foreach (var id in placed)
        {
            Assert(first.Contains("order " + id + " booked as POS-"), "Hello booked " + id + ": " + first);
        }
        Assert(first.Contains(" orders (sellsync " + SellSyncClient.Version + ")"), "Hello's last line: " + first);
        string second = RunHello(configFile);
        Assert(second.Contains("took 0 orders"), "no order taken again: " + second);
    }

    private static void StringsFreed()
    {
        long taken = Interlocked.Read(ref SellSyncClient.stringsTaken);
        long freed = Interlocked.Read(ref SellSyncClient.stringsFreed);
        Assert(taken > 10, "strings came out: " + taken);
        Assert(taken == freed, "taken " + taken + ", freed " + freed);
    }
}

internal static class NativeProbe
{
    [System.Runtime.InteropServices.DllImport("sellsync", CallingConvention = System.Runtime.InteropServices.CallingConvention.Cdecl)]
    internal static extern int sellsync_start(IntPtr h);
}
