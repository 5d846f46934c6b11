package org.sellsync;

/** {@code SELLSYNC_ERR_AUTH}: Amazon refused the credentials or the token. */
public class AuthException extends SellSyncException {
    private static final long serialVersionUID = 1L;

    public AuthException(String detail) {
        super(Status.AUTH, detail);
    }
}
