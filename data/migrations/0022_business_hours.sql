-- A tenant's business hours (`settings.business_hours`): the JSON the settings answer shows
-- ({timezone, week, holidays}), validated before it is written; NULL when the SLA clock
-- counts every hour.
ALTER TABLE tenants ADD COLUMN business_hours TEXT;
