"""Each dashboard page's logic, run headless by Streamlit's AppTest against a real database."""

from __future__ import annotations

import io
import zipfile

import pytest
from streamlit.testing.v1 import AppTest

from analyzer.history.catalog import describe
from analyzer.history.datadir import PhotoStore
from analyzer.history.importer import import_folder
from analyzer.history.storage import get_or_create_person, open_database
from tests.conftest import ROOT, save_smile_sessions, write_photo_variants
from ui.state import plain

PAGES = {
    "capture": "ui/pages/capture.py",
    "compare": "ui/pages/compare.py",
    "trends": "ui/pages/trends.py",
    "data": "ui/pages/data.py",
}


@pytest.fixture(scope="module")
def history_dir(tmp_path_factory):
    """A data folder with one person (3 sessions of 2 photos) and one with a single session."""
    folder = tmp_path_factory.mktemp("dashboard")
    db = open_database(f"sqlite:///{folder / 'analyzer.db'}")
    store = PhotoStore(folder / "photos")
    names = [f"2026-0{m}-01_{k}.jpg" for m in (1, 2, 3) for k in "ab"]
    write_photo_variants(folder / "in", names)
    import_folder(db, store, folder / "in", "Ana <b>*bold*</b>", tags=["exercise"])
    write_photo_variants(folder / "one", ["2026-01-01_a.jpg"])
    import_folder(db, store, folder / "one", "Ben")
    db.close()
    return folder


def app(monkeypatch, data_dir, page: str, person: str | None = None) -> AppTest:
    monkeypatch.setenv("ANALYZER_DATA_DIR", str(data_dir))
    monkeypatch.delenv("ANALYZER_DB_URL", raising=False)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    if person:
        at.session_state["person"] = person
    at.run()
    at.switch_page(PAGES[page])
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [i.value for i in at.info] + [w.value for w in at.warning]
    return "\n".join(str(p) for p in parts)


def test_trends_shows_a_card_per_followed_measure_with_its_sentence(monkeypatch, history_dir):
    at = app(monkeypatch, history_dir, "trends", "Ana <b>*bold*</b>")
    page = texts(at)
    assert "3 session(s) of 'rest'" in page
    assert "left brow height" in page
    assert "it varies by between days" in page
    assert len(at.get("plotly_chart")) == len(at.multiselect[0].value) > 0


def test_compare_lists_every_measure_with_its_verdict(monkeypatch, history_dir):
    at = app(monkeypatch, history_dir, "compare", "Ana <b>*bold*</b>")
    table = at.dataframe[0].value
    assert len(table) >= 10
    words = {"Better", "Recovering", "Worse", "Within noise", "Not comparable", "Not enough photos"}
    assert all(w in words or w.startswith("Changed: ") for w in table["verdict"])
    # Every number carries its unit, rounded: "18.6 mm", "+0.4 mm", "±1.6 mm".
    brow = table[table["measure"] == "left brow height"].iloc[0]
    assert brow["before"].endswith(" mm") and brow["noise (MDC95)"].startswith("±")
    assert len(brow["before"].split()[0].split(".")[1]) == 1
    assert "brow_height_left_mm" in brow["technical name"]
    # Photos are inline (data: URIs), never served by Streamlit's media endpoint.
    inline = [m for m in at.markdown if "data:image/jpeg;base64," in m.value]
    assert len(inline) >= 7  # before, after, overlay, arrows, four composites
    assert len(at.get("imgs")) == 0 and len(at.get("image")) == 0


def test_trends_and_compare_give_the_same_verdict_for_the_same_comparison(monkeypatch, history_dir):
    """Compare opens on the comparison Trends shows (the latest session against baseline):
    each measure's verdict there is word for word the one on its Trends card."""
    trends = app(monkeypatch, history_dir, "trends", "Ana <b>*bold*</b>")
    cards = [m.value for m in trends.markdown]
    compare = app(monkeypatch, history_dir, "compare", "Ana <b>*bold*</b>")
    table = compare.dataframe[0].value.set_index("measure")
    followed = trends.multiselect[0].value
    assert followed
    for name in followed:
        plain = describe(name).plain
        sentence = table.loc[plain, "in words"]
        assert sentence in cards, (name, sentence)
        assert f"**{table.loc[plain, 'verdict']}**" in "".join(cards)


def test_compare_with_one_session_explains_what_is_missing(monkeypatch, history_dir):
    at = app(monkeypatch, history_dir, "compare", "Ben")
    assert "needs two sessions" in texts(at)


def test_data_page_lists_people_and_deletes_only_after_typing_the_name(monkeypatch, history_dir):
    at = app(monkeypatch, history_dir, "data", "Ben")
    people = at.dataframe[0].value
    assert set(people["person"]) == {"Ana <b>*bold*</b>", "Ben"}
    delete = next(b for b in at.button if b.label.startswith("Delete everything"))
    assert delete.disabled
    assert str(history_dir) in texts(at) or str(history_dir) in at.markdown[0].value


def test_empty_database_says_what_to_do(monkeypatch, tmp_path):
    for page in PAGES:
        at = app(monkeypatch, tmp_path, page)
        assert "No people yet" in texts(at) or page == "data", page


def test_the_first_person_is_added_right_on_capture(monkeypatch, tmp_path):
    at = app(monkeypatch, tmp_path, "capture")
    assert "No people yet" in texts(at)
    at.text_input[0].input("  Zoe  ").run()
    next(b for b in at.button if b.label == "Add and go on").click().run()
    assert not at.exception
    assert at.session_state["person"] == "Zoe"
    assert at.selectbox(key="expression").value == "rest"


def test_a_new_person_is_added_from_capture_once_someone_exists(monkeypatch, tmp_path):
    """ "+ New person" beside the picker adds and chooses them; "zoe" beside "Zoe" is refused
    with a sentence naming who exists, and nobody is added."""
    db = open_database(f"sqlite:///{tmp_path / 'analyzer.db'}")
    with db.transaction() as session:
        get_or_create_person(session, "Zoe")
    db.close()
    at = app(monkeypatch, tmp_path, "capture", "Zoe")
    at.text_input(key="new-person-name").input("Yann").run()
    next(b for b in at.button if b.label == "Add").click().run()
    assert not at.exception
    assert at.session_state["person"] == "Yann"
    assert at.sidebar.selectbox[0].options == ["Yann", "Zoe"]
    at.text_input(key="new-person-name").input(" zoe ").run()
    next(b for b in at.button if b.label == "Add").click().run()
    assert "There is already a person called 'Zoe'" in " ".join(e.value for e in at.error)
    assert at.sidebar.selectbox[0].options == ["Yann", "Zoe"]


def test_capture_page_offers_guidance_and_both_inputs(monkeypatch, history_dir):
    at = app(monkeypatch, history_dir, "capture", "Ben")
    assert at.selectbox[0].value == "rest"
    assert [t.label for t in at.tabs] == ["Webcam", "Upload photos", "Upload a video"]
    assert "Take a photo or upload some" in texts(at)


def test_person_added_on_the_data_page_appears(monkeypatch, tmp_path):
    db = open_database(f"sqlite:///{tmp_path / 'analyzer.db'}")
    with db.transaction() as session:
        get_or_create_person(session, "Cleo")
    db.close()
    at = app(monkeypatch, tmp_path, "data")
    name = "Dora <i>*x*</i>"
    at.text_input[0].input(name).run()
    at.button[0].click().run()
    message = "\n".join(s.value for s in at.success)
    # Names are shown as typed, never as markup: every Markdown character is escaped.
    assert f"Added {plain(name)}." in message
    assert "<i>" not in message and "*x*" not in message
    assert set(at.dataframe[0].value["person"]) == {"Cleo", name}


def test_delete_on_the_data_page_removes_the_person_and_their_photos(monkeypatch, tmp_path):
    photos = tmp_path / "in"
    write_photo_variants(photos, ["2026-01-01_a.jpg"])
    db = open_database(f"sqlite:///{tmp_path / 'analyzer.db'}")
    import_folder(db, PhotoStore(tmp_path / "photos"), photos, "Eve")
    db.close()
    at = app(monkeypatch, tmp_path, "data", "Eve")
    at.text_input(key="confirm-delete").input("Eve").run()
    delete = next(b for b in at.button if b.label.startswith("Delete everything"))
    assert not delete.disabled
    delete.click().run()
    assert "Deleted Eve: 1 session(s), 1 capture(s), 1 photo file(s)." in at.success[0].value
    assert [p for p in (tmp_path / "photos").rglob("*") if p.is_file()] == []
    assert "No people yet" in texts(at)


def test_capture_walks_through_the_protocol(monkeypatch, history_dir):
    at = app(monkeypatch, history_dir, "capture", "Ben")
    page = texts(at)
    assert "still missing rest, brow raise, gentle eye closure" in page
    assert "Relax the face" in "\n".join(i.value for i in at.info)
    at.selectbox[0].select("broad smile").run()
    assert "Smile as broadly as you can" in "\n".join(i.value for i in at.info)


def test_the_expression_moves_on_only_in_the_walk_through_and_says_so(monkeypatch, history_dir):
    at = app(monkeypatch, history_dir, "capture", "Ben")
    assert not at.checkbox(key="walkthrough").value  # a mode the person turns on
    at.selectbox(key="expression").select("snarl").run()
    at.session_state["advance"] = True  # what a save leaves behind
    at.run()
    assert at.selectbox(key="expression").value == "snarl"
    assert "walk-through" not in "\n".join(i.value for i in at.info)
    at.checkbox(key="walkthrough").check().run()
    assert at.selectbox(key="expression").value == "snarl"  # turning it on changes nothing
    at.session_state["advance"] = True
    at.run()
    assert at.selectbox(key="expression").value == "rest"  # Ben has nothing today: rest first
    assert "the expression is now rest" in "\n".join(i.value for i in at.info)


def test_data_page_prepares_the_pdf_report(monkeypatch, history_dir):
    at = app(monkeypatch, history_dir, "data", "Ana <b>*bold*</b>")
    prepare = next(b for b in at.button if b.label.startswith("Prepare the PDF"))
    prepare.click().run()
    assert not at.exception
    name, pdf = at.session_state["report"]
    assert name == "Ana <b>*bold*</b>"
    assert pdf.startswith(b"%PDF")


@pytest.mark.parametrize(
    ("affected", "followed"),
    [
        ("right", ["broad_smile_ratio_pct", "broad_smile_eye_narrowing_right_pct"]),
        ("none", ["broad_smile_ratio_pct"]),
    ],
)
def test_trends_shows_the_palsy_protocol_movements_and_synkinesis_for_palsy_people(
    monkeypatch, tmp_path, face_rgb, face_analysis, affected, followed
):
    save_smile_sessions(tmp_path, face_rgb, face_analysis, "Pat", affected)
    at = app(monkeypatch, tmp_path, "trends", "Pat")
    at.sidebar.selectbox[1].select("protocol").run()
    assert not at.exception
    assert at.multiselect[0].value == followed
    page = texts(at)
    assert "broad smile: affected / healthy side" in page.lower() or "Broad smile" in page
    assert "affected side over the healthy one" in page


def test_a_missing_photo_file_never_hides_delete_and_the_zip_lists_it(monkeypatch, tmp_path):
    photos = tmp_path / "in"
    write_photo_variants(photos, ["2026-01-01_a.jpg", "2026-01-01_b.jpg"])
    db = open_database(f"sqlite:///{tmp_path / 'analyzer.db'}")
    name = "![t](http://host/x.png) *Eve*"  # Markdown that would fetch a URL if rendered
    import_folder(db, PhotoStore(tmp_path / "photos"), photos, name)
    db.close()
    PhotoStore(tmp_path / "photos").files()[0].unlink()
    at = app(monkeypatch, tmp_path, "data", name)
    confirm = at.text_input(key="confirm-delete")
    assert confirm.label == f"Type the name to confirm: {plain(name)}"  # shown as typed
    assert "![t](" not in confirm.label
    prepare = next(b for b in at.button if b.label.startswith("Prepare the ZIP"))
    prepare.click().run()
    assert not at.exception
    _, archive, missing = at.session_state["zip"]
    assert missing == 1
    with zipfile.ZipFile(io.BytesIO(archive)) as opened:
        assert "capture" in opened.read("missing_photos.txt").decode()
    assert any(w.value.startswith("1 photo file(s) are missing") for w in at.warning)
    confirm.input(name).run()
    delete = next(b for b in at.button if b.label.startswith("Delete everything"))
    delete.click().run()
    assert not at.exception
    assert PhotoStore(tmp_path / "photos").files() == []


def test_a_database_with_accounts_shows_only_the_sign_in_form_and_signs_out_an_idle_session(
    monkeypatch, tmp_path
):
    import datetime as dt

    from analyzer.history.accounts import SignIn, add_account, audit_rows

    db = open_database(f"sqlite:///{tmp_path / 'analyzer.db'}")
    with db.transaction() as session:
        add_account(session, "cleo", "clinician", "correct horse 1")
        get_or_create_person(session, "Pat")
    monkeypatch.delenv("ANALYZER_CLINIC", raising=False)  # the accounts alone ask for it
    monkeypatch.setenv("ANALYZER_IDLE_MINUTES", "5")
    monkeypatch.setenv("ANALYZER_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("ANALYZER_DB_URL", raising=False)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert [h.value for h in at.title] == ["Sign in"]
    assert "Pat" not in texts(at)  # nothing of anybody before signing in
    at.text_input[0].input("cleo")
    at.text_input[1].input("correct horse 1")
    at.button[0].click().run()
    assert "Signed in as cleo (clinician)" in "\n".join(c.value for c in at.sidebar.caption)
    # Six minutes without a click (as the database saw it): the next message signs out.
    with db.transaction() as session:
        (sign_in,) = session.query(SignIn).all()
        sign_in.last_seen_at -= dt.timedelta(minutes=6)
    at.run()
    assert [h.value for h in at.title] == ["Sign in"]
    assert "Signed out after 5 idle minutes." in "\n".join(i.value for i in at.info)
    with db.transaction() as session:
        actions = [
            (r.action, r.account_name, (r.detail or {}).get("reason")) for r in audit_rows(session)
        ]
        assert session.query(SignIn).one().end_reason == "idle"
    assert ("logout", "cleo", "idle") in actions and ("login", "cleo", None) in actions
    db.close()


def test_clinic_mode_started_without_tls_or_postgresql_serves_nothing(monkeypatch, tmp_path):
    """``ANALYZER_CLINIC=1 streamlit run`` must not skip what ``serve --clinic`` checks."""
    monkeypatch.setenv("ANALYZER_CLINIC", "1")
    monkeypatch.setenv("ANALYZER_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("ANALYZER_DB_URL", raising=False)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert [e.value for e in at.error] == [
        "Clinic mode serves only over TLS: start it with `python -m analyzer serve --clinic "
        "--cert CERT.pem --key KEY.pem`."
    ]
    assert not at.title and not at.text_input  # not even the sign-in form


def test_a_wrong_file_types_reason_is_a_sentence_on_the_page():
    """Capture takes any file and says why a wrong one is not taken (Streamlit's own type
    filter said it only on hover)."""
    from ui.state import upload_refusal

    assert upload_refusal("face.JPG") is None and upload_refusal("face.heic") is None
    message = upload_refusal("scan.pdf")
    assert message.startswith("scan") and "is a .pdf file, not a photo" in message
    assert "JPEG, PNG" in message
    assert "without a type" in upload_refusal("README")


def test_the_same_photo_chosen_twice_is_kept_once_and_said_so():
    """Two uploads with the same bytes would give two panels with the same widget keys (the
    page stopped with an error): the first is kept, the repeat named in a sentence."""
    from ui.state import distinct_photos, photo_key

    photos = [("a.jpg", b"one"), ("b.jpg", b"two"), ("copy of a.jpg", b"one"), ("c.jpg", b"one")]
    kept, repeats = distinct_photos(photos)
    assert kept == [("a.jpg", b"one"), ("b.jpg", b"two")]
    # The names as the page writes them (``plain``: markdown's characters escaped).
    assert [r.split(" is the same photo as ")[0] for r in repeats] == [
        plain("copy of a.jpg"),
        plain("c.jpg"),
    ]
    assert all(f" is the same photo as {plain('a.jpg')} " in r for r in repeats)
    assert photo_key(b"one") != photo_key(b"two") and photo_key(b"one") == photo_key(b"one")
