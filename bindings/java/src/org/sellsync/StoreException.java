package org.sellsync;

/** {@code SELLSYNC_ERR_STORE}: the local store failed. */
public class StoreException extends SellSyncException {
    private static final long serialVersionUID = 1L;

    public StoreException(String detail) {
        super(Status.STORE, detail);
    }
}
