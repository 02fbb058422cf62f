"""The intake pipeline: store first, never twice, quarantine failures, keep the flow going."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, OperationalError, connection, transaction
from django.test import Client, override_settings

from deskside.mail import intake
from deskside.mail.intake import (
    MAX_ATTEMPTS,
    inbound_process,
    inbound_reprocess,
    inbound_store,
)
from deskside.mail.models import (
    AcceptsFrom,
    InboundMessage,
    InboundSource,
    InboundState,
    Mailbox,
)
from deskside.mail.parsing import ParsedMail
from deskside.testing import Personas

FIXTURES = Path(__file__).parent / "fixtures"
PLAIN = (FIXTURES / "plain_text.eml").read_bytes()


def message(n: int, *, message_id: bool = True) -> bytes:
    header = f"Message-ID: <intake-{n}@example.com>\r\n" if message_id else ""
    return (
        f"From: Ada <ada@example.com>\r\nTo: help@deskside.test\r\n{header}"
        f"Subject: Test {n}\r\n\r\nBody {n}\r\n"
    ).encode()


@pytest.fixture
def mailbox(db: None) -> Mailbox:
    return Mailbox.objects.create(address="Help@Deskside.test", name="Help")


def test_store_keeps_the_exact_bytes(mailbox: Mailbox) -> None:
    result = inbound_store(raw=PLAIN, source=InboundSource.LMTP, mailbox=mailbox)
    assert result.created
    assert not result.duplicate
    stored = InboundMessage.objects.get()
    assert bytes(stored.raw) == PLAIN
    assert stored.size == len(PLAIN)
    assert stored.message_id == "CAF=plain-0001@mail.example.com"
    assert len(stored.sha256) == 64
    assert stored.state == InboundState.RECEIVED
    assert stored.mailbox == mailbox
    assert mailbox.address == "help@deskside.test"


def test_store_records_the_envelope(db: None) -> None:
    inbound_store(
        raw=message(1),
        source=InboundSource.SMTP,
        mailbox=None,
        envelope_sender="",
        envelope_recipients=["help@deskside.test", "it@deskside.test"],
    )
    stored = InboundMessage.objects.get()
    assert stored.envelope_sender == ""
    assert stored.envelope_recipients == "help@deskside.test\nit@deskside.test"


def test_store_refuses_an_unknown_source(db: None) -> None:
    with pytest.raises(ValueError, match="Unknown intake source"):
        inbound_store(raw=message(1), source="carrier-pigeon", mailbox=None)


def test_store_must_commit_on_its_own(db: None) -> None:
    # A caller's transaction could still roll back after a 250 was sent: refuse.
    with pytest.raises(RuntimeError), transaction.atomic():
        inbound_store(raw=message(1), source=InboundSource.IMAP, mailbox=None)


def test_same_message_id_is_stored_once(db: None) -> None:
    first = inbound_store(raw=PLAIN, source=InboundSource.IMAP, mailbox=None)
    # The same mail delivered again by another route: different trace headers.
    again = b"Received: from relay.example.com\r\n" + PLAIN
    second = inbound_store(raw=again, source=InboundSource.LMTP, mailbox=None)
    assert second.duplicate
    assert second.inbound.pk == first.inbound.pk
    assert InboundMessage.objects.count() == 1
    assert bytes(InboundMessage.objects.get().raw) == PLAIN


def test_without_message_id_the_hash_decides(db: None) -> None:
    first = inbound_store(raw=message(1, message_id=False), source="imap", mailbox=None)
    same = inbound_store(raw=message(1, message_id=False), source="imap", mailbox=None)
    other = inbound_store(raw=message(2, message_id=False), source="imap", mailbox=None)
    assert first.created
    assert same.duplicate
    assert same.inbound.pk == first.inbound.pk
    assert other.created
    assert first.inbound.message_id is None
    assert InboundMessage.objects.count() == 2


def test_same_bytes_with_and_without_id_rules_do_not_collide(db: None) -> None:
    # A message without an ID whose bytes equal nothing else is new even if a message
    # with an ID has the same hash prefix; and messages with IDs ignore the hash.
    inbound_store(raw=message(1), source="imap", mailbox=None)
    inbound_store(raw=message(2), source="imap", mailbox=None)
    inbound_store(raw=message(3, message_id=False), source="imap", mailbox=None)
    assert InboundMessage.objects.count() == 3


def test_process_parses_and_applies_to_the_desk(db: None) -> None:
    stored = inbound_store(raw=PLAIN, source="lmtp", mailbox=None).inbound
    processed = inbound_process(stored.pk)
    assert processed.state == InboundState.PROCESSED
    assert processed.error == ""
    assert processed.attempts == 1
    assert processed.processed_at is not None
    assert processed.ticket is not None
    assert processed.ticket_message is not None


def test_apply_step_decides_the_outcome(db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[ParsedMail] = []
    monkeypatch.setattr(intake, "apply_to_desk", lambda parsed, inbound: seen.append(parsed))
    stored = inbound_store(raw=PLAIN, source="lmtp", mailbox=None).inbound
    processed = inbound_process(stored.pk)
    assert processed.state == InboundState.PROCESSED
    assert seen[0].from_address == "ada@example.com"


def test_process_twice_does_nothing_the_second_time(
    db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    stored = inbound_store(raw=PLAIN, source="lmtp", mailbox=None).inbound
    inbound_process(stored.pk)
    calls: list[int] = []
    monkeypatch.setattr(intake, "apply_to_desk", lambda parsed, inbound: calls.append(1))
    again = inbound_process(stored.pk)
    assert calls == []
    assert again.attempts == 1


def test_unparseable_message_is_stored_then_quarantined(db: None) -> None:
    stored = inbound_store(raw=b"\r\n\r\n", source="smtp", mailbox=None).inbound
    assert stored.state == InboundState.RECEIVED
    processed = inbound_process(stored.pk)
    assert processed.state == InboundState.QUARANTINED
    assert "UnparseableMessage" in processed.error
    assert bytes(processed.raw) == b"\r\n\r\n"


def test_any_failure_quarantines_with_raw_intact_and_later_mail_flows(
    db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    poison = b"Message-ID: <poison@example.com>\r\nSubject: boom\r\n\r\nx"

    def exploding_parse(raw: bytes) -> ParsedMail:
        if b"poison" in raw:
            raise RuntimeError("parser exploded on line 3")
        from deskside.mail.parsing import parse_message

        return parse_message(raw)

    monkeypatch.setattr(intake, "parse_message", exploding_parse)
    bad = inbound_store(raw=poison, source="imap", mailbox=None).inbound
    good = inbound_store(raw=PLAIN, source="imap", mailbox=None).inbound

    bad = inbound_process(bad.pk)
    assert bad.state == InboundState.QUARANTINED
    assert bad.error == "RuntimeError: parser exploded on line 3"
    assert bytes(bad.raw) == poison
    assert bad.processed_at is not None

    assert inbound_process(good.pk).state == InboundState.PROCESSED


def test_failure_inside_apply_rolls_back_its_writes(
    db: None, monkeypatch: pytest.MonkeyPatch, mailbox: Mailbox
) -> None:
    def half_done(parsed: ParsedMail, inbound: InboundMessage) -> None:
        Mailbox.objects.filter(pk=mailbox.pk).update(name="changed by a failed apply")
        raise ValueError("halfway")

    monkeypatch.setattr(intake, "apply_to_desk", half_done)
    stored = inbound_store(raw=PLAIN, source="imap", mailbox=mailbox).inbound
    assert inbound_process(stored.pk).state == InboundState.QUARANTINED
    mailbox.refresh_from_db()
    assert mailbox.name == "Help"


def test_a_lost_database_is_not_blamed_on_the_message(
    db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def database_gone(raw: bytes) -> ParsedMail:
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(intake, "parse_message", database_gone)
    stored = inbound_store(raw=PLAIN, source="imap", mailbox=None).inbound
    with pytest.raises(OperationalError):
        inbound_process(stored.pk)
    stored.refresh_from_db()
    assert stored.state == InboundState.RECEIVED  # left for the retry


def test_a_message_that_keeps_killing_the_worker_is_set_aside(db: None) -> None:
    stored = inbound_store(raw=PLAIN, source="imap", mailbox=None).inbound
    # As if the worker died mid-way MAX_ATTEMPTS times: counted, never finished.
    InboundMessage.objects.filter(pk=stored.pk).update(attempts=MAX_ATTEMPTS)
    processed = inbound_process(stored.pk)
    assert processed.state == InboundState.QUARANTINED
    assert "never finished" in processed.error


def test_reprocess_a_quarantined_message(db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(raw: bytes) -> ParsedMail:
        raise RuntimeError("bug, fixed in the next release")

    from deskside.mail.parsing import parse_message

    monkeypatch.setattr(intake, "parse_message", broken)
    stored = inbound_store(raw=PLAIN, source="imap", mailbox=None).inbound
    assert inbound_process(stored.pk).state == InboundState.QUARANTINED

    monkeypatch.setattr(intake, "parse_message", parse_message)  # the fix is deployed
    again = inbound_reprocess(stored.pk)
    assert again.state == InboundState.PROCESSED
    assert again.ticket is not None
    assert again.attempts == 1


def test_held_messages_can_be_reprocessed_but_processed_ones_cannot(mailbox: Mailbox) -> None:
    mailbox.accepts_from = AcceptsFrom.KNOWN_PEOPLE
    mailbox.save()
    stored = inbound_store(raw=PLAIN, source="imap", mailbox=mailbox).inbound
    assert inbound_process(stored.pk).state == InboundState.HELD
    mailbox.accepts_from = AcceptsFrom.ANYONE  # the administrator lets strangers in
    mailbox.save()
    assert inbound_reprocess(stored.pk).state == InboundState.PROCESSED
    with pytest.raises(ValidationError, match="Only quarantined or held"):
        inbound_reprocess(stored.pk)


def test_a_message_over_the_size_limit_is_kept_but_rejected(db: None) -> None:
    # Above the default 25 MB limit, generated here rather than committed as a fixture.
    attachment = b"QUFBQUFB" * (26 * 1024 * 1024 // 8)
    raw = (
        b"From: ada@example.com\r\nMessage-ID: <huge@example.com>\r\nSubject: big\r\n"
        b"Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + attachment
    )
    result = inbound_store(raw=raw, source="imap", mailbox=None)
    stored = InboundMessage.objects.get(pk=result.inbound.pk)
    assert stored.state == InboundState.REJECTED
    assert "more than the 25 MB limit" in stored.error
    assert stored.size == len(raw)
    assert bytes(stored.raw) == raw  # nothing is lost
    # Processing leaves it alone, and a second delivery is still a duplicate.
    assert inbound_process(stored.pk).state == InboundState.REJECTED
    assert inbound_store(raw=raw, source="imap", mailbox=None).duplicate


@override_settings(MAIL_MAX_MESSAGE_MB=1)
def test_the_size_limit_is_a_setting(db: None) -> None:
    small = inbound_store(raw=message(1), source="imap", mailbox=None).inbound
    big = inbound_store(raw=message(2) + b"x" * (1024 * 1024), source="imap", mailbox=None).inbound
    assert small.state == InboundState.RECEIVED
    assert big.state == InboundState.REJECTED
    assert "1 MB limit" in big.error


# --- Concurrency: two intakes racing on one message --------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_database_constraint_decides_a_duplicate() -> None:
    # No look-up before the insert: a second delivery's insert conflicts with the committed
    # row, and the existing row is returned, for either unique rule.
    first = inbound_store(raw=PLAIN, source="imap", mailbox=None)
    second = inbound_store(raw=PLAIN, source="lmtp", mailbox=None)
    assert first.created
    assert second.duplicate
    assert second.inbound.pk == first.inbound.pk
    raw = message(7, message_id=False)
    inbound_store(raw=raw, source="imap", mailbox=None)
    assert inbound_store(raw=raw, source="lmtp", mailbox=None).duplicate
    assert InboundMessage.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_conflict_that_is_not_a_duplicate_is_not_hidden(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    inbound_store(raw=PLAIN, source="imap", mailbox=None)
    # If the conflicting row cannot be found, the error is real and must surface.
    monkeypatch.setattr(intake, "_existing", lambda mid, digest: None)
    with pytest.raises(IntegrityError):
        inbound_store(raw=PLAIN, source="lmtp", mailbox=None)


@pytest.mark.django_db(transaction=True)
def test_concurrent_stores_in_threads_keep_one_row() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite's in-memory test database serialises writers; see the race above")
    barrier = threading.Barrier(6)
    results: list[bool] = []
    errors: list[BaseException] = []

    def deliver() -> None:
        try:
            barrier.wait()
            results.append(inbound_store(raw=PLAIN, source="lmtp", mailbox=None).created)
        except BaseException as exc:  # collected and asserted on the main thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(results) == [False] * 5 + [True]
    assert InboundMessage.objects.count() == 1


# --- Admin: the quarantine and the raw source ------------------------------------------


def test_admin_shows_escaped_source_downloads_and_reprocesses(
    client: Client, personas: Personas
) -> None:
    hostile = (FIXTURES / "html_only_hostile.eml").read_bytes()
    stored = inbound_store(raw=hostile, source="imap", mailbox=None).inbound
    InboundMessage.objects.filter(pk=stored.pk).update(state=InboundState.QUARANTINED)
    client.force_login(personas.admin)

    assert client.get("/admin/mail/inboundmessage/").status_code == 200
    page = client.get(f"/admin/mail/inboundmessage/{stored.pk}/change/").content.decode()
    assert "&lt;script&gt;document.location" in page  # shown as text, never run
    assert "<script>document.location" not in page

    changelist = "/admin/mail/inboundmessage/"
    selected = {"_selected_action": [stored.pk], "index": 0}
    download = client.post(changelist, {**selected, "action": "download_raw"})
    assert download["Content-Type"] == "message/rfc822"
    assert download.content == hostile

    client.post(changelist, {**selected, "action": "reprocess"})
    stored.refresh_from_db()
    assert stored.state == InboundState.PROCESSED


def test_admin_mailbox_pages_render(client: Client, personas: Personas) -> None:
    Mailbox.objects.create(address="help@deskside.test", name="Help")
    client.force_login(personas.admin)
    assert client.get("/admin/mail/mailbox/").status_code == 200
    assert client.get("/admin/mail/mailbox/add/").status_code == 200


def test_receive_stores_then_processes_in_a_job(db: None) -> None:
    # Jobs run inline in tests, so the queued processing has happened on return.
    result = intake.inbound_receive(raw=PLAIN, source="lmtp", mailbox=None)
    assert result.created
    stored = InboundMessage.objects.get()
    assert stored.state == InboundState.PROCESSED
    assert stored.ticket is not None


def test_receive_twice_processes_once(db: None) -> None:
    intake.inbound_receive(raw=PLAIN, source="lmtp", mailbox=None)
    again = intake.inbound_receive(raw=PLAIN, source="imap", mailbox=None)
    assert again.duplicate
    assert InboundMessage.objects.get().ticket is not None
    from deskside.tickets.models import Ticket

    assert Ticket.objects.count() == 1


def test_a_lost_processing_job_is_caught_by_the_sweep(
    db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from deskside.mail import tasks

    def queue_down(inbound_id: int) -> None:
        raise ConnectionError("job queue unreachable")

    monkeypatch.setattr(tasks, "inbound_process_task", queue_down)
    result = intake.inbound_receive(raw=PLAIN, source="smtp", mailbox=None)
    # Stored and committed even though its job could not be queued.
    assert result.inbound.state == InboundState.RECEIVED
    # Too recent for the sweep: its job may merely be late.
    assert intake.inbound_process_pending() == 0
    assert intake.inbound_process_pending(older_than_seconds=0) == 1
    stored = InboundMessage.objects.get()
    assert stored.state == InboundState.PROCESSED
    assert intake.inbound_process_pending(older_than_seconds=0) == 0


# --- Several at once ---------------------------------------------------------------------


def test_many_messages_are_processed_in_one_go(db: None) -> None:
    stored = [inbound_store(raw=message(n), source="imap", mailbox=None).inbound for n in range(30)]
    intake.inbound_process_many([row.pk for row in stored])
    rows = InboundMessage.objects.order_by("id")
    assert {row.state for row in rows} == {InboundState.PROCESSED}
    assert {row.attempts for row in rows} == {1}
    from deskside.tickets.models import Ticket

    assert Ticket.objects.count() == 30
    assert all(row.ticket_id is not None for row in rows)


def test_a_listener_job_takes_waiting_mail_along_and_later_jobs_find_it_done(
    db: None, django_assert_max_num_queries: Any
) -> None:
    from deskside.mail.tasks import inbound_process_task
    from deskside.tickets.models import Ticket

    # As if the listener stored 30 messages faster than the worker took their jobs.
    stored = [inbound_store(raw=message(n), source="lmtp", mailbox=None).inbound for n in range(30)]
    retried = stored[5]
    InboundMessage.objects.filter(pk=retried.pk).update(attempts=1)  # an earlier run died on it
    inbound_process_task(stored[0].pk)
    rows = {row.pk: row for row in InboundMessage.objects.all()}
    done = [pk for pk, row in rows.items() if row.state == InboundState.PROCESSED]
    # The first job's own message and the 24 oldest fresh ones; not the one tried before.
    assert len(done) == intake.BATCH_SIZE
    assert retried.pk not in done
    assert all(rows[row.pk].state == InboundState.PROCESSED for row in stored[:5])
    assert Ticket.objects.count() == intake.BATCH_SIZE

    # A later job whose message a batch already did returns after one read.
    with django_assert_max_num_queries(25 * 7 + 15):
        inbound_process_task(stored[1].pk)
    # The rest come with the next jobs, the retried one on its own, each exactly once.
    inbound_process_task(retried.pk)
    inbound_process_task(stored[29].pk)
    assert set(InboundMessage.objects.values_list("state", flat=True)) == {InboundState.PROCESSED}
    assert Ticket.objects.count() == 30
    assert InboundMessage.objects.get(pk=retried.pk).attempts == 2


def test_a_failure_in_a_batch_quarantines_that_message_alone(
    db: None, monkeypatch: pytest.MonkeyPatch, mailbox: Mailbox
) -> None:
    from deskside.mail.apply import apply_to_desk as real_apply

    def fails_on_the_second(parsed: ParsedMail, inbound: InboundMessage) -> None:
        real_apply(parsed, inbound)  # writes a ticket, which the savepoint must undo
        if parsed.subject == "Test 2":
            raise ValueError("halfway")

    monkeypatch.setattr(intake, "apply_to_desk", fails_on_the_second)
    stored = [inbound_store(raw=message(n), source="imap", mailbox=None).inbound for n in range(4)]
    unreadable = inbound_store(raw=b"\r\n\r\n", source="imap", mailbox=None).inbound
    intake.inbound_process_many([*(row.pk for row in stored), unreadable.pk])

    states = dict(InboundMessage.objects.values_list("pk", "state"))
    assert states[stored[2].pk] == InboundState.QUARANTINED
    assert states[unreadable.pk] == InboundState.QUARANTINED
    assert [states[row.pk] for row in (stored[0], stored[1], stored[3])] == [
        InboundState.PROCESSED
    ] * 3
    failed = InboundMessage.objects.get(pk=stored[2].pk)
    assert "halfway" in failed.error
    assert failed.ticket_id is None
    from deskside.tickets.models import Ticket

    assert Ticket.objects.count() == 3  # the failed message's ticket was rolled back
    assert not Ticket.objects.filter(subject="Test 2").exists()


def test_messages_tried_before_are_processed_one_by_one(
    db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    stored = [inbound_store(raw=message(n), source="imap", mailbox=None).inbound for n in range(3)]
    # The middle one was started before and never finished: maybe it killed the worker.
    InboundMessage.objects.filter(pk=stored[1].pk).update(attempts=1)
    alone: list[int] = []
    real_process = intake.inbound_process

    def spy(message_id: int) -> InboundMessage:
        alone.append(message_id)
        return real_process(message_id)

    monkeypatch.setattr(intake, "inbound_process", spy)
    intake.inbound_process_many([row.pk for row in stored])
    assert alone == [stored[1].pk]
    assert set(InboundMessage.objects.values_list("state", flat=True)) == {InboundState.PROCESSED}
    assert InboundMessage.objects.get(pk=stored[1].pk).attempts == 2


def test_a_lost_database_in_a_batch_leaves_the_messages_for_a_retry(
    db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def database_gone(raw: bytes) -> ParsedMail:
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(intake, "parse_message", database_gone)
    stored = [inbound_store(raw=message(n), source="imap", mailbox=None).inbound for n in range(2)]
    with pytest.raises(OperationalError):
        intake.inbound_process_many([row.pk for row in stored])
    assert set(InboundMessage.objects.values_list("state", flat=True)) == {InboundState.RECEIVED}


def from_sender(n: int, address: str) -> bytes:
    return (
        f"From: Someone <{address}>\r\nTo: help@deskside.test\r\n"
        f"Message-ID: <sender-{n}@example.com>\r\nSubject: Question {n}\r\n\r\nBody {n}\r\n"
    ).encode()


def test_a_new_sender_writing_twice_in_one_batch_gets_one_account(db: None) -> None:
    from deskside.accounts.models import User
    from deskside.tickets.models import Ticket

    stored = [
        inbound_store(raw=from_sender(n, "New.Person@example.com"), source="imap", mailbox=None)
        for n in range(3)
    ]
    intake.inbound_process_many([row.inbound.pk for row in stored])
    person = User.objects.get(email="new.person@example.com")
    assert set(InboundMessage.objects.values_list("state", flat=True)) == {InboundState.PROCESSED}
    assert list(Ticket.objects.values_list("requester_id", flat=True)) == [person.pk] * 3


def test_an_account_undone_with_its_message_is_made_again_for_the_next(
    db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The batch remembers senders; a rolled-back message must not leave a ghost behind."""
    from deskside.accounts.models import User
    from deskside.mail.apply import apply_to_desk as real_apply
    from deskside.tickets.models import Ticket

    def fails_on_the_first(parsed: ParsedMail, inbound: InboundMessage) -> None:
        real_apply(parsed, inbound)  # makes the account, which the savepoint undoes
        if parsed.subject == "Question 0":
            raise ValueError("halfway")

    monkeypatch.setattr(intake, "apply_to_desk", fails_on_the_first)
    stored = [
        inbound_store(raw=from_sender(n, "ghost@example.com"), source="imap", mailbox=None)
        for n in range(2)
    ]
    intake.inbound_process_many([row.inbound.pk for row in stored])
    states = [InboundMessage.objects.get(pk=row.inbound.pk).state for row in stored]
    assert states == [InboundState.QUARANTINED, InboundState.PROCESSED]
    person = User.objects.get(email="ghost@example.com")
    assert Ticket.objects.get().requester_id == person.pk


def test_a_batch_reads_shared_settings_once_not_per_message(
    db: None, django_assert_max_num_queries: Any
) -> None:
    """Known senders, new tickets: a handful of reads per batch, then the writes each needs."""
    for n in range(25):
        inbound_store(raw=from_sender(n, f"known{n}@example.com"), source="imap", mailbox=None)
    from deskside.accounts.services import person_create

    for n in range(25):
        person_create(email=f"known{n}@example.com", full_name=f"Known {n}")
    ids = list(InboundMessage.objects.order_by("id").values_list("pk", flat=True))
    # Per message: ticket, message and history inserts, the message row's outcome, and two
    # savepoints (the message's own and the ticket service's), each with its release. Per
    # batch: about a dozen. (Before the batch shared its reads: about 22 per message.)
    with django_assert_max_num_queries(25 * 8 + 15):
        intake.inbound_process_many(ids)
    assert set(InboundMessage.objects.values_list("state", flat=True)) == {InboundState.PROCESSED}


def test_waiting_mail_another_worker_took_meanwhile_is_left_to_it(db: None) -> None:
    # Two worker threads: this job chose three waiting messages to take along, but before
    # its batch started another batch counted an attempt on the last one and is working
    # on it. This batch must not process that one on its own as well (a second attempt
    # and two more write transactions); its own job still will if the other batch fails.
    stored = [inbound_store(raw=message(n), source="lmtp", mailbox=None).inbound for n in range(4)]
    own, *others = (row.pk for row in stored)
    taken = others[-1]
    InboundMessage.objects.filter(pk=taken).update(attempts=1)
    intake._process_batch([own, *others], extras=frozenset(others))
    rows = {row.pk: row for row in InboundMessage.objects.all()}
    assert [rows[pk].state for pk in (own, *others[:-1])] == [InboundState.PROCESSED] * 3
    assert (rows[taken].state, rows[taken].attempts) == (InboundState.RECEIVED, 1)
    # The job's own message is never skipped, even when it is not fresh any more.
    from deskside.mail.tasks import inbound_process_task

    inbound_process_task(taken)
    taken_row = InboundMessage.objects.get(pk=taken)
    assert (taken_row.state, taken_row.attempts) == (InboundState.PROCESSED, 2)
