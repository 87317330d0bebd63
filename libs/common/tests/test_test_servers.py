"""The servers tests put between the code under test and the world behave as they say."""

import contextlib
import smtplib
import socket
import threading
import time
from email.message import EmailMessage

import pytest

from souk_common.test_servers import SmtpServer, TcpProxy


def message(subject: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = "shop@souk.test", "ann@example.com", subject
    mail.set_content(f"About {subject}.")
    return mail


def test_the_smtp_server_keeps_what_it_accepted_and_refuses_while_down():
    with SmtpServer() as server:
        with smtplib.SMTP("127.0.0.1", server.port) as client:
            client.send_message(message("one"))
        server.stop()
        with pytest.raises(ConnectionRefusedError):
            smtplib.SMTP("127.0.0.1", server.port, timeout=2)
        server.start()
        with smtplib.SMTP("127.0.0.1", server.port) as client:
            client.send_message(message("two"))

        mail = server.wait_for(2)

    assert [m.subject for m in mail] == ["one", "two"]
    assert mail[0].to == "ann@example.com"
    assert mail[0].text.strip() == "About one."


def test_the_smtp_server_says_when_each_message_arrived():
    with SmtpServer() as server:
        before = time.time()
        with smtplib.SMTP("127.0.0.1", server.port) as client:
            client.send_message(message("one"))
        after = time.time()

        [mail] = server.wait_for(1)

    assert before <= mail.received_at <= after


def test_a_held_message_whose_sender_leaves_is_not_kept():
    with SmtpServer() as server:
        server.hold()
        client = smtplib.SMTP("127.0.0.1", server.port)
        sock = client.sock

        def send():
            with contextlib.suppress(smtplib.SMTPException, OSError):  # it dies; see below
                client.send_message(message("lost"))

        sending = threading.Thread(target=send)
        sending.start()
        assert server.wait_until_holding(10)
        sock.shutdown(socket.SHUT_RDWR)  # the sender dies before the answer
        sock.close()
        server.release()
        sending.join(10)
        with smtplib.SMTP("127.0.0.1", server.port) as other:
            other.send_message(message("kept"))

        assert [m.subject for m in server.wait_for(1)] == ["kept"]


def test_the_proxy_forwards_until_cut_and_again_once_restored():
    with socket.create_server(("127.0.0.1", 0)) as target:
        port = target.getsockname()[1]

        def echo():
            while True:
                try:
                    conn, _ = target.accept()
                except OSError:
                    return
                with conn:
                    while data := conn.recv(1024):
                        conn.sendall(data)

        threading.Thread(target=echo, daemon=True).start()
        with TcpProxy("127.0.0.1", port) as proxy:
            first = socket.create_connection(("127.0.0.1", proxy.port), timeout=2)
            first.sendall(b"ping")
            assert first.recv(4) == b"ping"

            proxy.cut()
            assert first.recv(4) == b""  # closed under it
            refused = socket.create_connection(("127.0.0.1", proxy.port), timeout=2)
            assert refused.recv(4) == b""
            proxy.restore()
            again = socket.create_connection(("127.0.0.1", proxy.port), timeout=2)
            again.sendall(b"pong")
            assert again.recv(4) == b"pong"
            for sock in (first, refused, again):
                sock.close()
