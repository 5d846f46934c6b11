"""The shortest Python host: takes the orders waiting on Amazon and acknowledges each.

usage: python hello.py CONFIG_JSON_FILE
"""
import sys

import sellsync

with sellsync.SellSync.from_file(sys.argv[1]) as shop:  # the configuration document
    shop.sync_now(sellsync.Flow.ORDERS)
    taken = 0
    for order in shop.orders():
        taken += 1
        ref = f"SO-{1000 + taken}"  # book the order in the ERP, under its own number
        shop.ack(order["order_id"], ref)
        print(f"order {order['order_id']} booked as {ref}")
    print(f"took {taken} orders (sellsync {sellsync.version()})")
