"""The ways a message leaves the platform (issue 17): each channel sends one :class:`~.base.Outgoing` and says how it
went (:class:`~.base.SendResult`). Which class serves which channel name is configured in settings
(``GONGZHI_MESSAGING_CHANNELS``); :func:`~.base.get` builds it.

- ``record.RecordingChannel``: sends nothing (the demo's and the tests' default; the deliveries are the record);
- ``email.EmailChannel``: Django's mail API over SMTP;
- ``sms.AliyunSmsChannel``, ``sms.TencentSmsChannel``: the providers' SendSms with their own request signing;
- ``wecom.WeComRobotChannel``: a WeCom group robot's webhook.
"""
