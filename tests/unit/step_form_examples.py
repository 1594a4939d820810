"""Realistic submissions for the step forms the procedure diagrams added (all people made up)."""

STEP_EXAMPLES: dict[str, dict] = {
    "safety_check.json": {
        "other_children_at_risk": True,
        "safety_actions": "Child B is staying with a grandparent under a safety plan.",
        "child_protection_plan": "previous",
        "records_secured": True,
    },
    "statutory_notification.json": {
        "date_sent": "2026-12-21",
        "sent_by": "Officer Example, Head of Service",
        "external_reference": "NOT-2026-0042",
    },
    "rapid_review_arrangements.json": {
        "prg_meeting_date": "2027-01-05",
        "information_required_by": "2026-12-30",
        "agencies": ["police", "health"],
        "meeting_virtual": True,
    },
    "information_request.json": {
        "information_required_by": "2027-01-08",
        "agencies": ["police", "health"],
        "subgroup_meeting_date": "2027-01-12",
    },
    "local_review_reconsideration.json": {
        "reconsidered_lcspr_decision": "lcspr",
        "reconsideration_date": "2027-01-14",
        "reconsideration_reasons": "The Panel sees learning on multi-agency working "
        "that a local review would bring out.",
    },
    "panel_information.json": {
        "information_sent_date": "2027-01-20",
        "information_summary": "The school's referral history and the health visitor's notes.",
    },
    "panel_answer.json": {
        "outcome": "more_information",
        "received_date": "2026-12-18",
        "detail": "The Panel asks for the school's referral history before it decides.",
    },
    "national_panel_view.json": {
        "outcome": "challenge",
        "received_date": "2026-12-18",
        "advice": "Concerns about information sharing between the school and health were not weighed.",
    },
    "scr_new_information.json": {
        "summary": "The GP has disclosed earlier injuries that were not shared with children's services.",
        "received_date": "2026-12-18",
    },
    "demo_panel_response.json": {"decision": "no national review", "received_date": "2026-12-18"},
    "family_contact.json": {
        "informed_date": "2027-01-11",
        "method": "meeting",
        "informed_by": "Manager Example, Business Unit",
    },
    "initial_panel_return.json": {
        "agency": "Police",
        "completed_by": "Officer Example, public protection unit",
        "records_secured": True,
        "no_involvement": False,
        "chronology": [
            {
                "date": "2026-11-02",
                "worker": "Officer Example",
                "event": "Domestic incident at the family home; child present.",
            }
        ],
        "synopsis": "Two domestic incidents in the last year; referrals made to children's services.",
    },
    "cdop_referral.json": {
        "cdop_referring_agency": "Children's social care",
        "cdop_referral_date": "2026-12-18",
        "cdop_referred_by": "Manager Example, Child Protection Unit",
        "cdop_details_checked": True,
    },
    "family_involvement.json": {
        "family_contact_date": "2027-02-03",
        "family_contact_purposes": ["process_explained", "lines_of_enquiry"],
        "family_participants": ["parents_or_foster_carers", "grandparents"],
        "young_person_permission": "given_by_parents",
        "perpetrator_invited": "not_known",
        "family_lines_of_enquiry": "Why the health visitor stopped visiting after the move.",
        "family_contact_by": "Lead Reviewer Example and Manager Example, Business Unit",
        "family_liaison_officer": "Officer Example, police family liaison",
        "family_involvement_continues": False,
    },
    "report_sign_off.json": {
        "sign_off_date": "2026-12-21",
        "signed_off": True,
        "signed_off_by": "The three safeguarding partners",
    },
    "chair_scrutiny.json": {"scrutiny_date": "2027-05-12", "scrutiny_outcome": "assured"},
    "review_supervision.json": {
        "supervision_date": "2027-03-01",
        "progress_satisfactory": True,
        "quality_satisfactory": True,
        "new_information_national": False,
    },
    "publication_record.json": {
        "date_published": "2026-12-18",
        "published_where": "Partnership website, reviews page",
        "reviewer_named": True,
    },
    "proceedings_delay.json": {
        "proceedings": "Criminal trial of a parent listed for September.",
        "publication_date": "2027-10-20",
    },
    "panel_challenge_response.json": {
        "response_date": "2027-03-01",
        "final_outcome": "scr_commissioned",
        "response_rationale": "The Panel's points on joint working are accepted.",
        "chair_available_for_evidence": True,
    },
    "review_type_decision.json": {
        "decision_date": "2027-02-01",
        "proceed": True,
        "recommended_review_type": "systems",
        "review_rationale": "Learning about information sharing between two services.",
        "subgroup_chair": "Chair Example",
    },
    "review_report.json": {
        "report_agreed_date": "2027-05-01",
        "summary_of_learning": "Referrals were not followed up when families moved.",
        "recommendations": ["Agree a transfer-in protocol between the two services."],
    },
    "action_plan.json": {
        "action_plan_items": [
            {
                "item_number": "1",
                "finding": "Transfers were not followed up.",
                "objective": "Every transfer is followed up.",
                "actions": ["Write and train staff on a transfer-in protocol."],
                "target_date": "2027-09-30",
                "lead": {"agency": "Children's social care", "role": "Head of Service"},
                "outcome": "No child's case closes on transfer without a check.",
            }
        ],
        "signed_off_by": "Director Example",
        "report_agreed_date": "2027-05-10",
    },
    "action_plan_review.json": {
        "review_date": "2027-11-10",
        "progress_summary": "The protocol is in use.",
        "next_review_date": "2028-05-10",
        "outstanding_actions": "The audit of transfers is due.",
    },
    "improvements_captured.json": {
        "captured_on": "2026-12-18",
        "improvements_identified": [
            {
                "improvement": "Schools cannot see who holds a referral.",
                "corrective_action": "A duty contact is now on every referral.",
                "agency": "Children's social care",
            }
        ],
        "learning_disseminated": "Briefing to designated safeguarding leads.",
    },
    "report_sign_off_partners.json": {
        "sign_off_date": "2026-12-18",
        "signed_off": True,
        "partner_sign_offs": {
            "local_authority": {
                "name": "Director Example",
                "role": "Director of Children's Services",
                "date": "2026-12-18",
            },
            "integrated_care_board": {
                "name": "Nurse Example",
                "role": "Chief Nurse",
                "date": "2026-12-18",
                "delegate": True,
            },
            "police": {
                "name": "Superintendent Example",
                "role": "Head of Public Protection",
                "date": "2026-12-18",
            },
        },
    },
    "executive_ratification_partners.json": {
        "ratification_date": "2026-12-21",
        "executive_agrees": True,
        "executive_lcspr_decision": "lcspr",
        "executive_national_review_recommended": False,
        "decision_date": "2026-12-23",
        "partner_ratifications": {
            "local_authority": {
                "name": "Director Example",
                "role": "Director of Children's Services",
                "date": "2026-12-21",
            },
            "integrated_care_board": {
                "name": "Nurse Example",
                "role": "Chief Nurse",
                "date": "2026-12-21",
                "delegate": True,
            },
            "police": {
                "name": "Superintendent Example",
                "role": "Head of Public Protection",
                "date": "2026-12-21",
            },
        },
    },
    "report_sent.json": {
        "date_sent": "2026-12-18",
        "sent_by": "Manager Example, Business Unit",
        "action_plan_sent": True,
    },
    "publication_final_decision.json": {
        "comments_received_on": "2026-12-18",
        "publication_comments": "The Panel accepts that only the improvements are published.",
        "regard_given": "The improvements are published with the Panel's suggested summary.",
        "final_publication_decision": "improvements_only",
        "final_decided_on": "2026-12-18",
        "publication_date": "2027-02-01",
    },
    "timescale_extension.json": {
        "discussed_on": "2026-12-18",
        "extension_agreed": True,
        "s4_extended_to": "2027-06-30",
        "extension_reason": "A parent's criminal trial means practitioners cannot be interviewed yet.",
        "agreed_with": {
            "name": "Inspector Example",
            "role": "Regulatory inspection manager",
            "organisation": "Ofsted",
        },
    },
    "notifiability_decision.json": {
        "notifiability": "not_notifiable",
        "notifiability_reason": "No harm to the child; early help is in place.",
    },
    "peer_challenge.json": {
        "peer_chair": "Peer Chair Example, Sampleshire",
        "challenge_date": "2027-01-07",
        "peer_view": "scr",
        "peer_rationale": "The harm is likely to be long-term.",
    },
    "family_decision_contact.json": {
        "informed_date": "2027-01-13",
        "method": "meeting",
        "informed_by": "Manager Example, Business Unit",
    },
    "lead_area_liaison.json": {
        "home_area": "Sampleshire",
        "liaison_contact": "Safeguarding Manager Example, Sampleshire Partnership",
        "liaison_date": "2026-12-22",
        "lead_partnership": "home_area",
        "liaison_arrangements": "Chronologies shared; our Business Unit manager sits on their review panel.",
    },
    "review_request_chair_decision.json": {
        "review_approval": "approved",
        "chair_comments": "Agreed: a partnership review of housing and children's services.",
        "decision_date": "2027-02-15",
        "chair_signature": {"name": "Chair Example", "date": "2027-02-15"},
    },
    "local_review_request_recommendation.json": {
        "date_received": "2027-02-01",
        "date_discussed": "2027-02-08",
        "issues_overview": "A near miss: a referral lost when the family moved between areas.",
        "criteria_considered": ["agencies_working_together", "good_or_poor_practice_or_near_miss"],
        "local_review_recommended": True,
        "recommendation_reasons": "The transfer of cases between areas fails in a way a review would show.",
    },
    "local_review_request_decision.json": {
        "local_review_agreed": True,
        "decision_reasons": "Issues of importance to the area: transfers of cases between areas.",
        "decision_date": "2027-02-12",
        "communication": "The chair writes to the requester; the lead reviewer meets the mother.",
    },
    "practitioner_event.json": {
        "event_held": True,
        "event_date": "2026-12-18",
        "purpose_and_timing": "After the agency reports, to test the emerging findings.",
        "venue": "Community centre with a break-out room and refreshments",
        "facilitators": "The two lead reviewers, who have run six such events",
        "invited": [
            {
                "role": "Social worker",
                "agency": "Children's social care",
                "why": "Allocated worker",
                "attended": True,
            },
            {"role": "Health visitor", "agency": "Health", "attended": False},
        ],
        "others_attending": "No managers of the practitioners; the review panel chair only.",
        "support": "Each agency's lead briefs its staff before and after; a counsellor is there on the day.",
        "tone": "Ground rules agreed at the start; breaks when emotions run high.",
        "child_focus": "A photograph and a short pen picture of Child A open the day.",
        "administration_and_recording": "The Business Unit organises; a minute-taker notes themes.",
        "debrief": "Half an hour at the end with the facilitators.",
        "absent_practitioners": "The health visitor, on leave, answered the questions in writing beforehand.",
        "learning": "Practitioners did not know the school's concern had been shared.",
    },
    "agency_short_report.json": {
        "agency": "education",
        "author": {"name": "Author Example", "role": "Designated safeguarding lead"},
        "records_reviewed": "The school's safeguarding and attendance records, 2025-2026.",
        "no_record_of_note": False,
        "chronology": [
            {
                "date": "2026-10-02",
                "event": "Class teacher recorded bruising and told the designated lead.",
                "worker": "Teacher Example, class teacher",
                "child_seen": True,
                "wishes_sought": True,
            }
        ],
        "summary": "The school referred once and was not told the outcome.",
        "learning": "The school did not follow up its referral.",
        "changes_since_incident": "Referrals are now followed up after three working days.",
        "sign_off": {
            "name": "Head Example",
            "role": "Headteacher",
            "date": "2027-03-01",
            "quality_confirmed": True,
        },
    },
}
