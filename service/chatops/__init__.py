"""Chat-ops: commands, approvals and their audit trail from Slack, DingTalk and Feishu."""
