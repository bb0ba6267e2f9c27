-- cluster_shops: each extortion ring's money shop by shop (the ring's loss_estimate is the sum
-- over its shops): refunds and compensation the shop approved for the ring's members, on
-- requests made in the window, where the member attacked that shop (a low rating, a
-- compensation demand, or a review withdrawn or raised after payment).
CREATE TABLE IF NOT EXISTS cluster_shops (
    run_id         BIGINT NOT NULL,
    cluster_id     VARCHAR NOT NULL,
    shop_id        VARCHAR NOT NULL,
    members        INTEGER,     -- members of the ring that attacked this shop
    low_ratings    INTEGER,     -- their low ratings of it in the window
    paid_requests  INTEGER,     -- refunds + compensations it approved for them
    loss_estimate  DOUBLE       -- yuan it paid them (see above)
);
