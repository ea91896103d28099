<?php
/**
 * Delivery: one immediate attempt after the row is stored, then WP-Cron retries with backoff.
 *
 * @package Echo5_Leads
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * Sends outbox rows to `POST /api/v1/leads` and decides, from the answer, whether a row is
 * delivered, retried later or parked as failed.
 */
final class Echo5_Leads_Sender {

	/**
	 * Automatic retries stop this long after the submission (or after an admin's retry). The
	 * daemon keeps an Idempotency-Key for longer (8 days, `IDEMPOTENCY_WINDOW` in its
	 * echo5_core::dedup), so a retry whose first answer was lost is never a second lead; do
	 * not raise this past that window.
	 */
	const GIVE_UP_AFTER = 7 * DAY_IN_SECONDS;

	/**
	 * The attempt made in the visitor's request: short, because without PHP-FPM it runs before
	 * the visitor's response is sent.
	 */
	const IMMEDIATE_TIMEOUT = 3;

	/**
	 * An attempt from WP-Cron, where nobody waits.
	 */
	const CRON_TIMEOUT = 10;

	/**
	 * A cron run stops taking rows after this many seconds, so it ends well inside PHP's
	 * usual 30-second limit even when each attempt times out.
	 */
	const CRON_BUDGET = 20;

	/**
	 * At most this many rows per cron run.
	 */
	const CRON_BATCH = 50;

	/**
	 * Seconds to wait after the 1st, 2nd, … failed attempt; the last value repeats.
	 */
	const BACKOFF = array( 60, 120, 300, 600, 1800, 3600 );

	/**
	 * Longest wait a Retry-After header may ask for.
	 */
	const MAX_RETRY_AFTER = 6 * HOUR_IN_SECONDS;

	/**
	 * Rows stored during this request, sent at shutdown.
	 *
	 * @var int[]
	 */
	private static array $pending = array();

	/**
	 * Hooks the cron event.
	 */
	public static function register(): void {
		add_action( Echo5_Leads_Outbox::CRON_HOOK, array( __CLASS__, 'flush' ) );
	}

	/**
	 * Queues a stored row for the one immediate attempt at the end of this request.
	 *
	 * @param int $id Row id.
	 */
	public static function send_soon( int $id ): void {
		if ( $id <= 0 ) {
			return;
		}
		if ( array() === self::$pending ) {
			add_action( 'shutdown', array( __CLASS__, 'send_pending' ), 100 );
		}
		self::$pending[] = $id;
	}

	/**
	 * The immediate attempt. Under PHP-FPM the visitor's response is finished first, so the
	 * visitor never waits for the daemon.
	 */
	public static function send_pending(): void {
		$ids           = self::$pending;
		self::$pending = array();
		if ( array() === $ids ) {
			return;
		}
		if ( function_exists( 'fastcgi_finish_request' ) && apply_filters( 'echo5_leads_finish_request_first', true ) ) {
			fastcgi_finish_request();
		}
		foreach ( $ids as $id ) {
			self::attempt( $id, self::IMMEDIATE_TIMEOUT );
		}
	}

	/**
	 * The WP-Cron run: every due row, within a time budget.
	 */
	public static function flush(): void {
		$started = microtime( true );
		foreach ( Echo5_Leads_Outbox::due_ids( self::CRON_BATCH ) as $id ) {
			if ( microtime( true ) - $started > self::CRON_BUDGET ) {
				break;
			}
			self::attempt( $id, self::CRON_TIMEOUT );
		}
		Echo5_Leads_Outbox::purge_sent();
	}

	/**
	 * One delivery attempt of one row.
	 *
	 * @param int  $id      Row id.
	 * @param int  $timeout Seconds.
	 * @param bool $force   Send even if not due (the admin's retry).
	 * @return string `sent`, `retry`, `failed` or `skipped` (another process holds the row, or
	 *                it is not due, not queued or gone).
	 */
	public static function attempt( int $id, int $timeout, bool $force = false ): string {
		if ( ! Echo5_Leads_Outbox::claim( $id, $force ) ) {
			return 'skipped';
		}
		$row = Echo5_Leads_Outbox::get( $id );
		if ( null === $row ) {
			return 'skipped';
		}
		Echo5_Leads_Outbox::count_attempt( $id );
		$attempts = (int) $row['attempts'] + 1;

		if ( ! Echo5_Leads_Settings::configured() ) {
			$outcome = array(
				'kind'        => 'retry',
				'status'      => 0,
				'error'       => __( 'The daemon URL or API key is not set.', 'echo5-leads' ),
				'retry_after' => null,
				'lead_id'     => '',
			);
		} else {
			$response = wp_remote_post(
				Echo5_Leads_Settings::url() . '/api/v1/leads',
				array(
					'timeout'     => $timeout,
					'redirection' => 0,
					'headers'     => array(
						'Content-Type'    => 'application/json; charset=utf-8',
						'Accept'          => 'application/json',
						'X-API-Key'       => Echo5_Leads_Settings::api_key(),
						'Idempotency-Key' => (string) $row['idempotency_key'],
						'User-Agent'      => 'echo5-leads-wordpress/' . ECHO5_LEADS_VERSION . '; ' . home_url( '/' ),
					),
					// The stored bytes, unchanged: the daemon refuses an Idempotency-Key with
					// another body.
					'body'        => (string) $row['payload'],
				)
			);
			$outcome  = self::classify( $response );
		}

		switch ( $outcome['kind'] ) {
			case 'sent':
				Echo5_Leads_Outbox::mark_sent( $id, $outcome['lead_id'], $outcome['status'] );
				do_action( 'echo5_leads_sent', $id, $outcome['lead_id'] );
				return 'sent';
			case 'failed':
				Echo5_Leads_Outbox::mark_failed( $id, $outcome['status'], $outcome['error'] );
				do_action( 'echo5_leads_failed', $id, $outcome['status'], $outcome['error'] );
				return 'failed';
			default:
				$next = time() + self::delay( $attempts, $outcome['retry_after'] );
				if ( $next > (int) $row['expires_at'] ) {
					$error = sprintf(
						/* translators: 1: number of days, 2: the last error. */
						__( 'Gave up after %1$d days of retries. Last error: %2$s', 'echo5-leads' ),
						intdiv( self::GIVE_UP_AFTER, DAY_IN_SECONDS ),
						$outcome['error']
					);
					Echo5_Leads_Outbox::mark_failed( $id, $outcome['status'], $error );
					return 'failed';
				}
				Echo5_Leads_Outbox::mark_retry( $id, $next, $outcome['status'], $outcome['error'] );
				return 'retry';
		}
	}

	/**
	 * What an answer (or a transport error) means for the row.
	 *
	 * Retried: no answer at all (timeout, refused connection, DNS, TLS), 408, 429 and every
	 * 5xx. Parked as failed: every other status outside 2xx, with the daemon's message.
	 *
	 * @param array|WP_Error $response What wp_remote_post returned.
	 * @return array{kind: string, status: int, error: string, retry_after: ?int, lead_id: string}
	 */
	public static function classify( $response ): array {
		if ( is_wp_error( $response ) ) {
			return array(
				'kind'        => 'retry',
				'status'      => 0,
				'error'       => $response->get_error_message(),
				'retry_after' => null,
				'lead_id'     => '',
			);
		}
		$status = (int) wp_remote_retrieve_response_code( $response );
		$raw    = (string) wp_remote_retrieve_body( $response );
		$body   = json_decode( $raw, true );
		if ( $status >= 200 && $status < 300 ) {
			return array(
				'kind'        => 'sent',
				'status'      => $status,
				'error'       => '',
				'retry_after' => null,
				'lead_id'     => is_array( $body ) && isset( $body['id'] ) && is_scalar( $body['id'] ) ? (string) $body['id'] : '',
			);
		}
		$retryable = 408 === $status || 429 === $status || $status >= 500;
		$message   = self::error_message( $body, $raw );
		if ( $status >= 300 && $status < 400 ) {
			$message = sprintf(
				/* translators: %s: the address the daemon URL redirects to. */
				__( 'The daemon URL redirects to %s; set that address instead.', 'echo5-leads' ),
				(string) wp_remote_retrieve_header( $response, 'location' )
			);
		}
		return array(
			'kind'        => $retryable ? 'retry' : 'failed',
			'status'      => $status,
			'error'       => sprintf( 'HTTP %d: %s', $status, $message ),
			'retry_after' => $retryable ? self::parse_retry_after( (string) wp_remote_retrieve_header( $response, 'retry-after' ) ) : null,
			'lead_id'     => '',
		);
	}

	/**
	 * Seconds before the next attempt: the daemon's Retry-After when it gave one (at most six
	 * hours), else the backoff schedule. Filterable, so a test site need not wait minutes.
	 *
	 * @param int      $attempts    Attempts made so far (1 after the first).
	 * @param int|null $retry_after Seconds from Retry-After, if any.
	 */
	public static function delay( int $attempts, ?int $retry_after ): int {
		if ( null !== $retry_after ) {
			$delay = min( max( $retry_after, 1 ), self::MAX_RETRY_AFTER );
		} else {
			$index = min( max( $attempts, 1 ), count( self::BACKOFF ) ) - 1;
			$delay = self::BACKOFF[ $index ];
		}
		return max( 0, (int) apply_filters( 'echo5_leads_retry_delay', $delay, $attempts, $retry_after ) );
	}

	/**
	 * Retry-After as seconds: delta-seconds or an HTTP date; null when absent or unreadable.
	 *
	 * @param string $value Header value.
	 */
	public static function parse_retry_after( string $value ): ?int {
		$value = trim( $value );
		if ( '' === $value ) {
			return null;
		}
		if ( ctype_digit( $value ) ) {
			return (int) $value;
		}
		$at = strtotime( $value );
		if ( false === $at ) {
			return null;
		}
		return max( 0, $at - time() );
	}

	/**
	 * The daemon's error text: `{"error": {"code", "message", "field"}}`, or the start of the
	 * body when it is something else.
	 *
	 * @param mixed  $body Decoded JSON.
	 * @param string $raw  Body as received.
	 */
	public static function error_message( $body, string $raw ): string {
		if ( is_array( $body ) && isset( $body['error'] ) && is_array( $body['error'] ) ) {
			$code    = isset( $body['error']['code'] ) && is_scalar( $body['error']['code'] ) ? (string) $body['error']['code'] : '';
			$message = isset( $body['error']['message'] ) && is_scalar( $body['error']['message'] ) ? (string) $body['error']['message'] : '';
			return trim( $message . ( '' !== $code ? ' (' . $code . ')' : '' ) );
		}
		$text = trim( wp_strip_all_tags( $raw ) );
		return '' === $text ? __( '(empty answer)', 'echo5-leads' ) : mb_substr( $text, 0, 300 );
	}
}
