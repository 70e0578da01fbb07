"""mfctl campaign watch against a real server. The Campaign Service is played by a Python
peer publishing CampaignStatusUpdate messages on campaign.status, in order, on one connection
(so mfctl receives them in that order)."""

from __future__ import annotations

import json
import re
import unittest
from typing import Optional

from harness import CAMPAIGN, EXECUTION, Proc, peer, run, run_on_tty, url

OTHER = "0b7a3c9e-4f21-4d8a-9c55-2e1f6a7b8c90"
AT = "2026-03-02T08:00:00Z"


def update(status: str, sent: Optional[int] = None, failed: int = 0, total: int = 100,
           execution: str = EXECUTION, campaign: str = CAMPAIGN, error: Optional[tuple] = None) -> bytes:
    u: dict = {"execution_id": execution, "campaign_id": campaign, "status": status, "updated_at": AT}
    if sent is not None:
        u["progress"] = {"total_targets": total, "sent": sent, "failed": failed}
    if error:
        u["error"] = {"code": error[0], "message": error[1]}
    return json.dumps(u).encode()


def play(*updates: bytes) -> None:
    c = peer()
    try:
        for u in updates:
            c.pub("campaign.status", u)
        c.flush(30)
    finally:
        c.close()


def watch(*args: str) -> Proc:
    p = Proc("-s", url(), "campaign", "watch", *args)
    p.wait_err("mfctl: watching ")
    return p


class Plain(unittest.TestCase):
    """stdout is not a terminal: one line per update of the watched execution."""

    def test_completed_is_0(self) -> None:
        w = watch(EXECUTION)
        play(update("pending"), update("running", 0), update("running", 10, total=100, execution=OTHER),
             b'{"status": "running"}', update("running", 40, 10), update("completed", 97, 3))
        self.assertEqual(w.wait(), 0, w.err())
        lines = w.out().splitlines()
        self.assertEqual(len(lines), 4, lines)
        self.assertEqual(lines[0], f"{AT} pending")
        self.assertRegex(lines[1], rf"^{AT} running: 0 sent, 0 failed of 100 \(0\.0%\), --/s, ETA --$")
        self.assertRegex(lines[2], rf"^{AT} running: 40 sent, 10 failed of 100 \(50\.0%\), "
                                   r"(--/s, ETA --|\d+/s, ETA \S+)$")
        self.assertEqual(lines[3], f"{AT} completed: 97 sent, 3 failed of 100 (100.0%)")
        self.assertIn("mfctl: skipped an invalid CampaignStatusUpdate on campaign.status: /execution_id: ",
                      w.err())

    def test_failed_is_1_with_the_error(self) -> None:
        w = watch(EXECUTION, "--timeout", "1m")
        play(update("running", 5), update("failed", 5, 1, error=("gateway_unavailable", "Push gateway down")))
        self.assertEqual(w.wait(), 1)
        self.assertEqual(w.out().splitlines()[-1], "error gateway_unavailable: Push gateway down")
        self.assertIn(f"mfctl: execution {EXECUTION} failed", w.err())

    def test_cancelled_is_1_and_paused_goes_on(self) -> None:
        w = watch(EXECUTION)
        play(update("running", 5), update("paused", 5), update("running", 6), update("cancelled", 6))
        self.assertEqual(w.wait(), 1)
        self.assertEqual([ln.split(" ")[1].rstrip(":") for ln in w.out().splitlines()],
                         ["running", "paused", "running", "cancelled"])
        self.assertIn("cancelled", w.err())

    def test_updates_after_the_end_are_ignored(self) -> None:
        w = watch(EXECUTION)
        play(update("completed", 100), update("failed", 100))
        self.assertEqual(w.wait(), 0)
        self.assertEqual(len(w.out().splitlines()), 1)

    def test_timeout_is_3(self) -> None:
        w = watch(EXECUTION, "--timeout", "1s")
        play(update("running", 1))
        self.assertEqual(w.wait(), 3)
        self.assertIn(f"mfctl: no final status for {EXECUTION} within 1s (last seen: running)", w.err())

    def test_campaign_follows_its_first_execution(self) -> None:
        w = watch("--campaign", CAMPAIGN)
        play(update("running", 1, campaign=OTHER, execution=OTHER), update("running", 2),
             update("completed", 9, execution=OTHER), update("completed", 100))
        self.assertEqual(w.wait(), 0, w.err())
        self.assertIn(f"mfctl: following execution {EXECUTION} of campaign {CAMPAIGN}", w.err())
        self.assertEqual(len(w.out().splitlines()), 2)
        self.assertIn("completed: 100 sent", w.out())

    def test_ctrl_c_is_130(self) -> None:
        w = watch(EXECUTION)
        self.assertEqual(w.interrupt(), 130)
        self.assertIn("interrupted", w.err())


class Terminal(unittest.TestCase):
    def test_bar_is_redrawn_in_place(self) -> None:
        rc, out, err = run_on_tty(["-s", url(), "campaign", "watch", EXECUTION],
                                  lambda: play(update("pending"), update("running", 0, total=1000),
                                               update("running", 250, 10, total=1000),
                                               update("completed", 990, 10, total=1000)))
        self.assertEqual(rc, 0, err)
        text = out.decode()
        self.assertEqual(text.count("\r\x1b[K"), 4, repr(text))
        self.assertEqual(text.count("\n"), 1, repr(text))  # only after the final state
        draws = [d for d in text.split("\r\x1b[K") if d]
        self.assertEqual(draws[0], "pending")
        self.assertEqual(len(set(len(re.search(r"\[[#-]+\]", d).group()) for d in draws[1:])), 1,
                         "the bar keeps its width")
        self.assertRegex(draws[2], r"^running +\[#+-+\]  26\.0%  250 sent  10 failed  of 1000  "
                                   r"(--/s, ETA --|\d+/s, ETA \S+)$")
        self.assertRegex(draws[3], r"^completed \[#+\] 100\.0%  990 sent  10 failed  of 1000\r?\n$")


class Usage(unittest.TestCase):
    def test_arguments(self) -> None:
        for args, says in ((["campaign"], "which campaign command"),
                           (["campaign", "stop", EXECUTION], "unknown campaign command stop"),
                           (["campaign", "watch"], "give one EXECUTION_ID or --campaign ID"),
                           (["campaign", "watch", EXECUTION, "--campaign", CAMPAIGN], "give one"),
                           (["campaign", "watch", "nope"], "the execution_id must be a uuid"),
                           (["campaign", "watch", "--campaign", "nope"], "the campaign_id must be a uuid"),
                           (["campaign", "watch", EXECUTION, "--timeout", "5"], "needs a unit")):
            p = run("-s", url(), *args)
            self.assertEqual(p.returncode, 2, (args, p.stderr))
            self.assertIn(says, p.stderr, args)


if __name__ == "__main__":
    unittest.main()
