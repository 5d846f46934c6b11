// The shortest C# host: takes the orders waiting on Amazon and acknowledges each.
//
// usage: mono Hello.exe CONFIG_JSON_FILE
using System;
using SellSync;

class Hello {
    static void Main(string[] args) {
        using (var s = new SellSyncClient(System.IO.File.ReadAllText(args[0]))) {
            s.SyncNow(Flows.Orders);
            string doc;
            int n = 0;
            while ((doc = s.OrderNext()) != null) {
                var id = (string)Json.Get(Json.Parse(doc), "order_id");
                s.OrderAck(id, "POS-" + ++n);           // booked in the POS as POS-n
                Console.WriteLine("order {0} booked as POS-{1}", id, n);
            }
            Console.WriteLine("took {0} orders (sellsync {1})", n, SellSyncClient.Version);
        }
    }
}
