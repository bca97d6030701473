"""The tracked links' address, ``/r/<token>``: a signed issue and item in, the item's own address out.

A token that does not verify, or names an item its issue did not show, gets a 400 page and
never a redirect: nothing in the request chooses where it leads but the stored item. With
``[tracking] clicks = true`` each click is counted (``insight.clicks.Counter``); links that
went out while it was on keep working after it is turned off, uncounted.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from newsletter.insight import clicks
from newsletter.store import to_db
from newsletter.subscribers.signup_limit import client_address
from newsletter.tokens import LinkError
from newsletter.web.pages import newsletter_of, peer_of
from newsletter.web.public import bad_link

router = APIRouter(include_in_schema=False)


def counter_of(request: Request) -> clicks.Counter:
    """Return the web app's click counter (the connections of the current ten minutes live in it)."""
    counter: clicks.Counter = request.app.state.clicks
    return counter


@router.api_route("/r/{token:path}", methods=["GET", "HEAD"], response_model=None)
def follow(request: Request, token: str) -> Response:
    """Redirect to the item a tracked link names (counting the click), or answer 400."""
    app = newsletter_of(request)
    try:
        number, item_id = clicks.read(app.signer(), token)
        found = clicks.target(app.store, number, item_id)
    except LinkError as e:
        page: HTMLResponse = bad_link(request, e)
        return page
    if app.config.tracking.clicks:
        peer, forwarded = peer_of(request)
        connection = client_address(peer, forwarded, app.config.web.trusted_proxies)
        moment = to_db(app.clock())
        assert moment is not None
        counter_of(request).click(app.store, found, connection=f"{connection}\n{request.headers.get('user-agent', '')}",
                                  head=request.method == "HEAD", moment=moment)
    return RedirectResponse(found.url, status_code=302, headers={"Cache-Control": "no-store"})
