package org.sellsync;

/** {@code SELLSYNC_ERR_NETWORK}: Amazon could not be reached, or its answer was unreadable, after every retry. */
public class NetworkException extends SellSyncException {
    private static final long serialVersionUID = 1L;

    public NetworkException(String detail) {
        super(Status.NETWORK, detail);
    }
}
