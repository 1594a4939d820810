"""Staff read names, not keys: a source paragraph as people cite the document, a deadline by its rule's name
with its key after it, a process by its diagram's name."""

from __future__ import annotations

import pytest

from web.ui.plain_names import deadline_name, documents_cited, process_name, source_reference

RAPID = "B&NES rapid review and practice review procedures (2020)"
SCR = "B&NES serious case review procedures (2015)"


@pytest.mark.parametrize(
    ("source", "reads"),
    [
        ("003 §8.5", f"{RAPID}, paragraph 8.5"),
        ("003 §3.4-§4.6", f"{RAPID}, paragraphs 3.4 to 4.6"),
        ("003 §7.2, §7.10", f"{RAPID}, paragraphs 7.2 and 7.10"),
        (
            "000 §3.1; 002 §1.1",
            f"{SCR}, paragraph 3.1; Cumbria serious case review procedure (2019), paragraph 1.1",
        ),
        ("000 Appendix 2", f"{SCR}, Appendix 2"),
        (
            "001 §3 (agency chronology), §4 (no record of note)",
            "East of England serious case review commissioning guide (2015), paragraph 3 "
            "(agency chronology), paragraph 4 (no record of note)",
        ),
        (
            '004 "Initial Serious Case Review Panel"',
            'Bolton Framework for Action: serious case reviews, "Initial Serious Case Review Panel"',
        ),
        (
            "Working Together 2018, chapter 4",
            "Working Together 2018, chapter 4",
        ),  # no document number: as written
        ("", ""),
    ],
)
def test_a_source_reads_as_a_reference_to_its_document(source, reads):
    assert source_reference(source) == reads


def test_a_deadline_reads_by_its_name_with_its_key_after_it():
    names = {"R1": "Local authority notifies the Panel"}
    assert deadline_name("R1", names) == "Local authority notifies the Panel (R1)"
    assert deadline_name("X9", names) == "X9"  # no rule set names it
    assert deadline_name("", names) == ""


def test_a_process_reads_by_its_diagrams_name():
    names = {"scr_decision": "Serious case review decision"}
    assert process_name("scr_decision", names) == "Serious case review decision"
    assert process_name("local_cspr", names) == "Local cspr"  # not deployed: its identifier as words


def test_the_documents_a_steps_instructions_cite_are_named_once_each_in_order():
    text = 'Check within 5 working days (003 §3.1-3.2; 000 §3.1, 003 §3.6; 004 "Referral"; 2024 §1).'
    assert documents_cited(text) == [
        ("003", RAPID),
        ("000", SCR),
        ("004", "Bolton Framework for Action: serious case reviews"),
    ]
    assert documents_cited("") == [] and documents_cited(None) == []
