"""The ways a message leaves the platform (issue 17): each channel sends one :class:`~.base.Outgoing` and says how it
went (:class:`~.base.SendResult`). Which class serves which channel name is configured in settings
(``GONGZHI_MESSAGING_CHANNELS``); :func:`~.base.get` builds it."""
