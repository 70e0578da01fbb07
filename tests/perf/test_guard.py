#!/usr/bin/env python3
"""guard.py's verdicts on made-up counts: each goal fails when crossed, holds when met."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import guard  # noqa: E402


def codec(dec: float, base: float, enc: float, prt: float) -> guard.Counts:
    return {"decode": {"M": dec}, "cjson": {"M": base}, "ref": {"M": 2 * base}, "encode": {"M": enc},
            "print": {"M": prt}}


class GuardVerdicts(unittest.TestCase):
    def test_codec_goals_met(self) -> None:
        _, fails = guard.check_codec(codec(500, 1000, 100, 300))
        self.assertEqual(fails, [])

    def test_decode_over_its_goal_fails(self) -> None:
        _, fails = guard.check_codec(codec(710, 1000, 100, 300))
        self.assertEqual(len(fails), 1)
        self.assertIn("decode M", fails[0])

    def test_encode_under_its_goal_fails(self) -> None:
        _, fails = guard.check_codec(codec(500, 1000, 100, 240))
        self.assertEqual(len(fails), 1)
        self.assertIn("encode M", fails[0])

    def test_route_within_tolerance_holds(self) -> None:
        counts = {k: {"": v * 1.1} for k, v in guard.ROUTE_RECORDED.items()}
        _, fails = guard.check_route(counts)
        self.assertEqual(fails, [])

    def test_route_over_tolerance_fails(self) -> None:
        counts = {k: {"": v} for k, v in guard.ROUTE_RECORDED.items()}
        counts["route1"] = {"": guard.ROUTE_RECORDED["route1"] * 1.2}
        _, fails = guard.check_route(counts)
        self.assertEqual(len(fails), 1)
        self.assertIn("route1", fails[0])

    def test_route_missing_scenario_fails(self) -> None:
        _, fails = guard.check_route({})
        self.assertEqual(len(fails), len(guard.ROUTE_RECORDED))

    def test_route_much_cheaper_asks_for_a_new_figure(self) -> None:
        counts = {k: {"": v * 0.5} for k, v in guard.ROUTE_RECORDED.items()}
        lines, fails = guard.check_route(counts)
        self.assertEqual(fails, [])
        self.assertTrue(any("record the new figure" in line for line in lines))


if __name__ == "__main__":
    unittest.main()
