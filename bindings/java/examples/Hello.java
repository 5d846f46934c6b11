import java.nio.file.Files;
import java.nio.file.Path;
import org.sellsync.Flow;
import org.sellsync.Json;
import org.sellsync.SellSync;

/** The shortest Java host: takes the orders waiting on Amazon and acknowledges each. */
public class Hello {
    public static void main(String[] args) throws Exception {
        try (SellSync shop = new SellSync(Files.readString(Path.of(args[0])))) {
            shop.syncNow(Flow.ORDERS);
            int taken = 0;
            for (String order; (order = shop.orderNext()) != null; ) {
                String id = (String) Json.object(order).get("order_id");
                String ref = "POS-" + ++taken; // book the order in the POS, under its own number
                shop.orderAck(id, ref);
                System.out.println("order " + id + " booked as " + ref);
            }
            System.out.println("took " + taken + " orders (sellsync " + SellSync.version() + ")");
        }
    }
}
