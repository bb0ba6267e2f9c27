-- ip_block(ip): the network block of an IP address, the one definition every feature uses.
--   IPv4            -> its /24:  '10.1.2.0/24'  (also for IPv4-mapped IPv6, '::ffff:10.1.2.3')
--   IPv6            -> its /48:  '2409:8a00:1::/48' (the first three groups, lower case,
--                      leading zeros dropped, after expanding '::'; a zone '%eth0' is ignored)
--   anything else   -> NULL (empty, malformed, NULL)
-- Why /48 for IPv6: a /64 is one subscriber's LAN (a rotating-proxy pool or a crew's hosting
-- hands out many /64s from one /48), while a /48 is one site or tenant, the unit a /24 is for
-- IPv4. Hub blocks (a carrier gateway) are handled by each detector's base rates, not here.
CREATE OR REPLACE TEMP MACRO ipv6_groups(s) AS (
    CASE WHEN contains(s, '::') THEN
        list_concat(
            CASE WHEN split_part(s, '::', 1) = '' THEN []::VARCHAR[]
                 ELSE string_split(split_part(s, '::', 1), ':') END,
            list_resize([]::VARCHAR[],
                        8 - len(CASE WHEN split_part(s, '::', 1) = '' THEN []::VARCHAR[]
                                     ELSE string_split(split_part(s, '::', 1), ':') END)
                          - len(CASE WHEN split_part(s, '::', 2) = '' THEN []::VARCHAR[]
                                     ELSE string_split(split_part(s, '::', 2), ':') END),
                        '0'),
            CASE WHEN split_part(s, '::', 2) = '' THEN []::VARCHAR[]
                 ELSE string_split(split_part(s, '::', 2), ':') END)
    ELSE string_split(s, ':') END
);

CREATE OR REPLACE TEMP MACRO ipv6_group(g) AS (
    CASE WHEN ltrim(g, '0') = '' THEN '0' ELSE ltrim(g, '0') END
);

CREATE OR REPLACE TEMP MACRO ip_block(ip) AS (
    CASE
        WHEN regexp_matches(trim(ip), '^(::ffff:)?\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$')
            THEN regexp_extract(trim(ip), '(\d{1,3}\.\d{1,3}\.\d{1,3})\.\d{1,3}$', 1) || '.0/24'
        WHEN regexp_matches(split_part(lower(trim(ip)), '%', 1), '^[0-9a-f:.]*:[0-9a-f:.]*$')
             AND len(ipv6_groups(split_part(lower(trim(ip)), '%', 1))) >= 3
            THEN ipv6_group(ipv6_groups(split_part(lower(trim(ip)), '%', 1))[1]) || ':'
              || ipv6_group(ipv6_groups(split_part(lower(trim(ip)), '%', 1))[2]) || ':'
              || ipv6_group(ipv6_groups(split_part(lower(trim(ip)), '%', 1))[3]) || '::/48'
    END
);
