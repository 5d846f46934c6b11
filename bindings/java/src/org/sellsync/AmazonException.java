package org.sellsync;

/** {@code SELLSYNC_ERR_AMAZON}: Amazon answered with an error (its code and message are in the detail). */
public class AmazonException extends SellSyncException {
    private static final long serialVersionUID = 1L;

    public AmazonException(String detail) {
        super(Status.AMAZON, detail);
    }
}
