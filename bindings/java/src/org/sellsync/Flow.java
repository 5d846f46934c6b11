package org.sellsync;

/** Flow bits for {@link SellSync#syncNow(int)} ({@code SELLSYNC_FLOW_*}). */
public final class Flow {
    private Flow() {}

    /** Orders in (Amazon to host). */
    public static final int ORDERS = 1;
    /** Stock out (host to Amazon). */
    public static final int STOCK = 2;
    /** Listings pull and reconciliation. */
    public static final int LISTINGS = 4;
    /** Shipment confirmations, cancellations and refunds out. */
    public static final int SHIPMENTS = 8;
    /** Every flow. */
    public static final int ALL = 15;
}
