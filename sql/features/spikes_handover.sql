-- spikes_handover: the events of `spikes_events` (TEMP table of the spikes detector) that the
-- spikes detector hands to its readers (DetectorResult.handover["events"]): those of each one-off
-- burst's scope family between its padded bounds (`spikes_handover_found`: family, lo, hi),
-- inside the window, so that no reader rebuilds the event union to learn who acted in a burst.
SELECT e.family, e.detail, e.minute, e.ts, e.account_id, e.device_id, e.ip
FROM spikes_events AS e
SEMI JOIN spikes_handover_found AS s
  ON e.family = s.family AND e.ts >= s.lo AND e.ts < s.hi
WHERE e.ts >= getvariable('window_start')
