"""Log redaction: one masker (common.secrets.mask_secrets) behind the crawl's logging filter."""
import logging

from crawler.redact import PasswordScrubFilter, install_password_filter


def test_password_is_scrubbed_from_log_records():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "db %s", ("postgresql://arch:hunter2@db/x",), None)
    PasswordScrubFilter().filter(record)
    assert "hunter2" not in record.getMessage() and "arch:***@db" in record.getMessage()


def test_schemeless_passwords_and_tracebacks_are_scrubbed_too():
    try:
        raise ConnectionError("could not connect to arch:s3cret@10.0.0.5:5432")
    except ConnectionError:
        import sys
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "redis redis://:tok3n@cache/0 down", (),
                                   sys.exc_info())
    PasswordScrubFilter().filter(record)
    assert "tok3n" not in record.getMessage() and "s3cret" not in record.exc_text
    assert ":***@cache" in record.getMessage() and "arch:***@10.0.0.5" in record.exc_text


def test_filter_is_installed_once_per_handler():
    logger = logging.getLogger("govnews-test-redact")
    handler = logging.StreamHandler()
    logger.addHandler(handler)
    try:
        assert install_password_filter(logger) == 1
        assert install_password_filter(logger) == 0
        assert sum(isinstance(f, PasswordScrubFilter) for f in handler.filters) == 1
    finally:
        logger.removeHandler(handler)
