package org.sellsync;

/** {@code SELLSYNC_ERR_FORKED}: the handle was opened in another process (after fork). */
public class ForkedException extends SellSyncException {
    private static final long serialVersionUID = 1L;

    public ForkedException(String detail) {
        super(Status.FORKED, detail);
    }
}
