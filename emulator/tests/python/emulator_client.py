"""python-amazon-sp-api pointed at the emulator: its LWA client and SP-API endpoint."""
from sp_api.auth import AccessTokenClient
from sp_api.base import Marketplaces

CREDENTIALS = {
    "refresh_token": "Atzr|emulator-refresh-token",
    "lwa_app_id": "amzn1.application-oa2-client.emulator",
    "lwa_client_secret": "emulator-client-secret",
}


def client(cls, url):
    """An instance of the API class `cls` that talks to the emulator at `url`."""

    class EmulatorLwa(AccessTokenClient):
        scheme = "http://"
        host = url.split("://", 1)[1]

    c = cls(Marketplaces.US, credentials=CREDENTIALS, auth_token_client_class=EmulatorLwa)
    c.endpoint = url
    return c
