"""The fixtures of ``test_triage`` (a trained history's bodies, the subdistrict desk, private storage) for every test
module of the app."""

from gongzhi.triage.tests.test_triage import bodies, desk, var  # noqa: F401
