"""Two app servers, as an operator runs them: two gunicorn instances with the
repository's configuration, one PostgreSQL and one Redis. A job is created through
one and signed through the other; one-time links and rate limits hold across both."""

from __future__ import annotations

import re
from contextlib import ExitStack

import pytest
import requests
from sqlalchemy import text

from tests.conftest import TABLES, add_user, all_yes_answers, hidden_fields, make_app
from tests.services import Browser, gunicorn, press, sign_in
from tests.test_api import order
from tests.tools import needs
from webapp.extensions import db
from webapp.models import Handover, Receipt

pytestmark = [pytest.mark.postgresql, needs("pdftotext")]  # gunicorn's /readyz reads a probe


@pytest.fixture
def shared_database(postgresql_url):
    app = make_app(postgresql_url)
    yield app
    with app.app_context():
        with db.engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE"))
        db.engine.dispose()


def test_created_on_one_server_signed_on_the_other_and_limits_shared(
    shared_database, postgresql_url, redis_url
):
    from webapp.api.auth import create_client

    app = shared_database
    add_user(app, "tech")
    with app.app_context():
        _client, api_token = create_client("orders", ["orders:write"])
        db.session.commit()

    with ExitStack() as servers:
        one = servers.enter_context(gunicorn(postgresql_url, redis_url)).url
        two = servers.enter_context(gunicorn(postgresql_url, redis_url)).url

        # The order system creates the job through the first server.
        created = requests.post(f"{one}/api/v1/handovers", json=order(),
                                headers={"Authorization": f"Bearer {api_token}"}, timeout=30)
        assert created.status_code == 201, created.text
        public_id = created.json()["id"]

        # The technician hands it over there; the session works on both servers.
        tablet = Browser()
        assert sign_in(tablet, one).status_code == 302
        assert press(tablet, one, public_id, "freeze").status_code == 302
        page = tablet.get(f"{one}/handovers/{public_id}").text
        token = re.search(r'class="link-box"><a href="[^"]*/s/([A-Za-z0-9_-]+)"', page).group(1)

        # The subscriber signs through the second server.
        phone = Browser()
        form = hidden_fields(phone.get(f"{two}/s/{token}").text)
        signed = phone.post(f"{two}/s/{token}", data={**form, **all_yes_answers()},
                            allow_redirects=False)
        assert signed.status_code == 302

        # The link is spent on the first server too.
        other = Browser()
        assert other.get(f"{one}/s/{token}").status_code == 404
        again = other.post(f"{one}/s/{token}", data={**form, **all_yes_answers(),
                                                     "submission_id": "another-try-123"})
        assert again.status_code == 404

        # The technician closes the job through the second server.
        assert press(tablet, two, public_id, "close", {"typed_name": "Tech"}).status_code == 302
        with app.app_context():
            handover = db.session.scalar(db.select(Handover).filter_by(public_id=public_id))
            assert handover.status == "closed"
            assert db.session.query(Receipt).filter_by(handover_id=handover.id).count() == 1

        # Failed sign-ins against either server count together, in Redis.
        limit = int(app.config["RATE_LIMITS"]["sign_in_per_login_and_address"].split()[0])
        for attempt in range(limit):
            answer = sign_in(Browser(), (one, two)[attempt % 2], "wrong-password")
            assert answer.status_code == 200
        assert sign_in(Browser(), one).status_code == 429
        assert sign_in(Browser(), two).status_code == 429
