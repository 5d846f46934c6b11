package org.sellsync;

/** {@code SELLSYNC_ERR_CONFIG}: the configuration is incomplete or inconsistent. */
public class ConfigException extends SellSyncException {
    private static final long serialVersionUID = 1L;

    public ConfigException(String detail) {
        super(Status.CONFIG, detail);
    }
}
