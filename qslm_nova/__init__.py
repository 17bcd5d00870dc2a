"""qslm-nova: QoS-aware secure live migration for OpenStack Nova."""
