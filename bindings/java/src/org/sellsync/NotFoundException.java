package org.sellsync;

/** {@code SELLSYNC_ERR_NOT_FOUND}: no such order or item. */
public class NotFoundException extends SellSyncException {
    private static final long serialVersionUID = 1L;

    public NotFoundException(String detail) {
        super(Status.NOT_FOUND, detail);
    }
}
