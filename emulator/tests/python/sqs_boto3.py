"""boto3, AWS's own SQS client, against the emulator's SQS endpoint: create a queue, send,
long-poll receive (it must wait), delete, redelivery after the visibility timeout, batch
delete, and wrong credentials refused. Usage: sqs_boto3.py EMULATOR_URL"""
import sys
import threading
import time

import boto3
import botocore.config
from botocore.exceptions import ClientError

URL = sys.argv[1]
KEY = "AKIAEMULATOR00000000"
SECRET = "emulator/aws/secret/key/0000000000000000"
CONFIG = botocore.config.Config(retries={"max_attempts": 1}, read_timeout=30)


def client(key=KEY, secret=SECRET):
    return boto3.client("sqs", endpoint_url=URL, region_name="us-east-1",
                        aws_access_key_id=key, aws_secret_access_key=secret, config=CONFIG)


sqs = client()
url = sqs.create_queue(QueueName="boto3-test")["QueueUrl"]
assert url == URL + "/000000000000/boto3-test", url
assert sqs.get_queue_url(QueueName="boto3-test")["QueueUrl"] == url
assert url in sqs.list_queues(QueueNamePrefix="boto3")["QueueUrls"]

# Long polling: the receive waits until a message sent 1.5 s later arrives.
threading.Timer(1.5, lambda: client().send_message(QueueUrl=url, MessageBody="late")).start()
start = time.monotonic()
got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=5, MaxNumberOfMessages=1)
waited = time.monotonic() - start
assert [m["Body"] for m in got["Messages"]] == ["late"], got
assert 1.2 < waited < 4.5, waited
sqs.delete_message(QueueUrl=url, ReceiptHandle=got["Messages"][0]["ReceiptHandle"])

# An empty queue answers after the whole wait, with no messages.
start = time.monotonic()
empty = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)
assert not empty.get("Messages") and time.monotonic() - start >= 0.9, empty

# Redelivery after the visibility timeout, with the receive count.
sent = sqs.send_message(QueueUrl=url, MessageBody="hello")  # boto3 checks MD5OfMessageBody
first = sqs.receive_message(QueueUrl=url, VisibilityTimeout=1, AttributeNames=["All"])["Messages"][0]
assert first["MessageId"] == sent["MessageId"] and first["Attributes"]["ApproximateReceiveCount"] == "1"
assert not sqs.receive_message(QueueUrl=url).get("Messages"), "invisible while in flight"
attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
assert attrs["ApproximateNumberOfMessagesNotVisible"] == "1", attrs
again = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=3, AttributeNames=["ApproximateReceiveCount"])["Messages"][0]
assert again["MessageId"] == first["MessageId"] and again["Attributes"]["ApproximateReceiveCount"] == "2", again
sqs.delete_message(QueueUrl=url, ReceiptHandle=again["ReceiptHandle"])

# Batch delete.
for i in range(3):
    sqs.send_message(QueueUrl=url, MessageBody=f"m{i}")
msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
assert len(msgs) == 3, msgs
res = sqs.delete_message_batch(QueueUrl=url, Entries=[
    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(msgs)])
assert len(res["Successful"]) == 3 and not res.get("Failed"), res
attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages",
                                                                 "ApproximateNumberOfMessagesNotVisible"])
assert attrs["Attributes"] == {"ApproximateNumberOfMessages": "0",
                               "ApproximateNumberOfMessagesNotVisible": "0"}, attrs

# Errors.
try:
    sqs.get_queue_url(QueueName="missing")
    raise AssertionError("a missing queue was found")
except sqs.exceptions.QueueDoesNotExist:
    pass
try:
    client(key="AKIAWRONGWRONGWRONG0").list_queues()
    raise AssertionError("wrong credentials were accepted")
except ClientError as e:
    assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 403, e.response
    assert e.response["Error"]["Code"] == "InvalidClientTokenId", e.response

print("all ok")
