"""The plain-language coach's rules, each with cases it must flag and cases it must not."""

from __future__ import annotations

from deskside.coach.analysis import Issue, Report, analyze, mask_ignored


def _flagged(report: Report, *kinds: str) -> list[tuple[str, str]]:
    return [(i.kind, i.text) for i in report.issues if not kinds or i.kind in kinds]


def _check_offsets(text: str, report: Report) -> None:
    for issue in report.issues:
        assert text[issue.start : issue.end] == issue.text


# Jargon and acronyms from the dictionary


def test_flush_dns_cache_and_vpn_are_flagged_with_plain_alternatives() -> None:
    text = "Please flush your DNS cache and reconnect to the VPN"
    report = analyze(text, reader_name="Alex")
    _check_offsets(text, report)
    by_text = {i.text: i for i in report.issues}
    assert {"DNS", "cache", "VPN"} <= set(by_text)
    vpn = by_text["VPN"]
    assert vpn.kind == "acronym"
    assert vpn.term_id == "vpn"
    assert vpn.severity == "warning"
    assert vpn.message == "Alex might not know “VPN” (virtual private network)."
    assert "virtual private network" in vpn.suggestions
    assert "secure connection to the office network" in vpn.suggestions
    assert vpn.explanation
    assert by_text["DNS"].kind == "acronym"
    assert by_text["cache"].kind == "jargon"
    assert by_text["cache"].suggestions


def test_reader_name_falls_back_to_your_reader() -> None:
    (issue,) = analyze("Reconnect to the VPN.").issues
    assert issue.message.startswith("Your reader might not know “VPN”")


def test_term_explained_in_brackets_at_first_use_is_not_flagged() -> None:
    text = "Connect to the VPN (the secure connection to the office network), then the VPN again."
    assert _flagged(analyze(text)) == []


def test_term_explained_by_dash_comma_or_called_is_not_flagged() -> None:
    for text in (
        "Open the VPN - the secure connection to the office - and sign in.",
        "Open the VPN — the secure connection to the office — and sign in.",
        "Open the VPN, a secure connection to the office, and sign in.",
        "Open the secure connection, called VPN, and sign in.",
        "Open the secure connection known as the “VPN” and sign in.",
    ):
        assert _flagged(analyze(text), "acronym") == [], text


def test_acronym_after_its_long_form_is_explained() -> None:
    text = "Open the virtual private network (VPN) app. The VPN icon turns green."
    assert _flagged(analyze(text)) == []


def test_a_plain_comma_list_is_not_a_gloss() -> None:
    report = analyze("Restart the VPN, Outlook and Teams.")
    assert _flagged(report) == [("acronym", "VPN")]


def test_explanation_must_come_at_first_use() -> None:
    text = "Reconnect to the VPN. The VPN (secure office connection) will ask for a code."
    report = analyze(text)
    assert [(i.text, i.start) for i in report.issues] == [("VPN", 17)]


def test_only_first_unexplained_use_of_a_term_is_reported() -> None:
    report = analyze("The VPN is slow. Restart the VPN. Then the VPN works.")
    assert len(report.issues) == 1


def test_requesters_own_terms_are_not_flagged() -> None:
    text = "I have reset the VPN and cleared the cache."
    assert _flagged(analyze(text, known_terms=["vpn", "Cache"])) == []
    assert _flagged(analyze(text, known_terms=["caches"])) == [("acronym", "VPN")]
    # Writing out the long form shows the requester knows what the short form means.
    assert analyze("Open the VPN.", known_terms=["Virtual private network"]).issues == ()


def test_terms_used_or_defined_in_the_context_are_known() -> None:
    context = "My VPN keeps dropping. Also what is LMS (learning management system)?"
    report = analyze("Restart the VPN and then open LMS and your mailbox.", context=context)
    assert _flagged(report) == [("jargon", "mailbox")]


def test_it_never_matches_the_it_department_or_the_pronoun() -> None:
    report = analyze("IT has fixed it. Restart it if it fails, or call IT.")
    assert report.issues == ()


def test_ad_is_active_directory_only_in_capitals() -> None:
    assert analyze("I saw an ad for a new laptop.").issues == ()
    (issue,) = analyze("Your AD account is locked.").issues
    assert (issue.term_id, issue.kind) == ("ad", "acronym")
    assert "Active Directory" in issue.message


def test_plural_and_variant_forms_are_flagged() -> None:
    report = analyze("Both VPNs failed, so we are reimaging the laptop.")
    assert [(i.text, i.term_id) for i in report.issues] == [
        ("VPNs", "vpn"),
        ("reimaging", "reimage"),
    ]


# Acronyms outside the dictionary


def test_unknown_acronym_is_flagged_once() -> None:
    text = "Open the XQZ portal. XQZ will ask for your name."
    report = analyze(text, reader_name="Sam")
    assert [(i.kind, i.text, i.start) for i in report.issues] == [("acronym", "XQZ", 9)]
    assert report.issues[0].message.startswith("Sam might not know “XQZ”")
    assert report.issues[0].term_id is None


def test_defined_and_well_known_acronyms_are_not_flagged() -> None:
    for text in (
        "Open the learning management system (LMS) and sign in.",
        "Open the LMS (learning management system) and sign in.",
        "Bring your ID, the USB stick and a PDF of the form to the IT desk ASAP.",
        "The office opens at 9 AM. FYI the FAQ is on the intranet.",
    ):
        assert analyze(text).issues == (), text


def test_shouting_and_single_capitals_are_not_acronyms() -> None:
    for text in (
        "Please do NOT turn it off.",
        "PLEASE SAVE YOUR WORK BEFORE FIVE.",
        "Press A then B.",
    ):
        assert analyze(text).issues == (), text


# Hard words


def test_hard_words_get_simpler_suggestions_every_time() -> None:
    text = "Please utilise the form prior to Friday. Utilise it in order to commence."
    report = analyze(text)
    _check_offsets(text, report)
    hard = [i for i in report.issues if i.kind == "hard_word"]
    assert [(i.text, i.suggestions[0]) for i in hard] == [
        ("utilise", "use"),
        ("prior to", "before"),
        ("Utilise", "use"),
        ("in order to", "to"),
        ("commence", "start"),
    ]
    assert all(i.severity == "info" for i in hard)
    assert hard[0].message == "“utilise” has a simpler word: “use”."


def test_plain_words_are_not_hard_words() -> None:
    assert analyze("Please use the form before Friday to start.").issues == ()


# Condescending words


def test_condescending_words_are_warnings() -> None:
    text = "Simply restart. Obviously it is easy; as I said, just click OK. Of course, clearly."
    report = analyze(text)
    found = _flagged(report, "condescending")
    assert [t.lower() for _, t in found] == [
        "simply",
        "obviously",
        "easy",
        "as i said",
        "just",
        "of course",
        "clearly",
    ]
    assert all(i.severity == "warning" for i in report.issues if i.kind == "condescending")


def test_just_about_time_or_precaution_is_not_condescending() -> None:
    text = "I just restarted the printer. Keep a copy just in case. It has just finished."
    assert _flagged(analyze(text), "condescending") == []


def test_words_containing_condescending_words_are_not_flagged() -> None:
    assert analyze("The justification is easygoing.").issues == ()


# Sentence length and readability


def test_long_sentence_is_flagged_with_its_span() -> None:
    long = " ".join(["word"] * 26) + "."
    text = f"Short one. {long} Short two."
    report = analyze(text)
    (issue,) = _issues(report, "long_sentence")
    assert (issue.start, issue.end) == (11, 11 + len(long))
    assert issue.severity == "warning"
    assert "26 words" in issue.message


def test_sentence_of_25_words_is_fine() -> None:
    assert analyze(" ".join(["word"] * 25) + ".").issues == ()


def test_readability_only_judged_for_long_enough_text() -> None:
    short = analyze("Subsequently, comprehensive reconfiguration necessitates authorisation.")
    assert (short.grade, short.reading_ease) == (None, None)
    assert _issues(short, "readability") == []


def test_hard_to_read_text_gets_a_readability_warning() -> None:
    sentence = (
        "The organisational infrastructure modification necessitates comprehensive "
        "reconfiguration of authentication mechanisms throughout departments. "
    )
    report = analyze(sentence * 10, reader_name="Alex")
    assert report.grade is not None
    assert report.grade > 10
    assert report.reading_ease is not None
    (issue,) = _issues(report, "readability")
    assert issue.message.startswith(f"This reads like grade {round(report.grade)}.")
    assert "Alex" in issue.message


def test_easy_text_gets_a_grade_but_no_readability_warning() -> None:
    report = analyze("We fixed your printer. It works now. Thank you for waiting. " * 10)
    assert report.grade is not None
    assert report.grade < 5
    assert report.words == 110
    assert report.sentences == 30
    assert _issues(report, "readability") == []


# What is ignored


def test_quoted_history_is_ignored_with_offsets_after_it() -> None:
    text = "> Is the VPN down?\n> My DNS is odd\nReconnect to the VPN."
    report = analyze(text)
    _check_offsets(text, report)
    assert [(i.text, i.start) for i in report.issues] == [("VPN", text.rindex("VPN"))]


def test_mail_history_after_on_wrote_is_ignored() -> None:
    text = "Thanks, all sorted.\n\nOn Mon 3 May, Alex wrote:\nMy VPN and DNS are broken.\n"
    assert analyze(text).issues == ()
    outlook = "Sorted.\n-----Original Message-----\nFrom: Alex\nThe VPN failed."
    assert analyze(outlook).issues == ()


def test_code_urls_paths_and_emails_are_ignored_with_correct_offsets() -> None:
    text = (
        "Run `ipconfig /flushdns` and see https://help.example.com/VPN/DNS-guide.\n"
        "```\nping DNS VPN\n```\n"
        r"Open C:\Users\alex\VPN or \\fileserver\DNS or /etc/vpn/DNS.conf "
        "or mail vpn-team@DNS.example.com about the SSID."
    )
    report = analyze(text)
    _check_offsets(text, report)
    assert [(i.text, i.start) for i in report.issues] == [("SSID", text.index("SSID"))]


def test_masking_keeps_length_and_line_breaks() -> None:
    text = "See https://x.example/a.\n> quoted\nok"
    masked = mask_ignored(text)
    assert len(masked) == len(text)
    assert masked.count("\n") == text.count("\n")
    assert masked.endswith("a.\n        \nok".replace("a", " "))


# The report


def test_summary_wording() -> None:
    assert analyze("").summary() == "No problems found"
    assert analyze("Reconnect to the VPN.").summary() == "1 term to explain"
    text = "Simply flush the DNS cache prior to lunch. " + " ".join(["word"] * 26) + "."
    assert analyze(text).summary() == (
        "3 terms to explain · 1 word to simplify · 1 phrase to soften · 1 long sentence"
    )
    easy = analyze("We fixed your printer. It works now. Thank you for waiting. " * 10)
    assert easy.grade is not None
    assert easy.summary() == f"Reads like grade {max(1, round(easy.grade))} · no problems found"
    assert (
        analyze("We fixed your printer. Reconnect to the VPN now. " * 12)
        .summary()
        .endswith(" · 1 term to explain")
    )


def test_issues_are_sorted_and_counted() -> None:
    text = "Please utilise the VPN. Simply restart."
    report = analyze(text)
    assert [i.start for i in report.issues] == sorted(i.start for i in report.issues)
    assert (report.words, report.sentences) == (6, 2)


def test_analyze_accepts_a_custom_dictionary() -> None:
    from deskside.coach.dictionary import Dictionary

    custom = Dictionary([])
    assert analyze("Reconnect to the VPN.", dictionary=custom).issues[0].term_id is None


def _issues(report: Report, kind: str) -> list[Issue]:
    return [i for i in report.issues if i.kind == kind]
