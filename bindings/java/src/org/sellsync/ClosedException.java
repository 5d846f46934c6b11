package org.sellsync;

/** {@code SELLSYNC_ERR_CLOSED}: the handle is closed. */
public class ClosedException extends SellSyncException {
    private static final long serialVersionUID = 1L;

    public ClosedException(String detail) {
        super(Status.CLOSED, detail);
    }
}
