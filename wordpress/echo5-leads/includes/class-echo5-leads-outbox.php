<?php
/**
 * The outbox table: every submission is stored here before any network I/O, and stays until
 * the daemon has it.
 *
 * @package Echo5_Leads
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * Rows of `{prefix}echo5_leads_outbox`. Times are Unix seconds (UTC), so no site time zone
 * setting can shift a retry.
 */
final class Echo5_Leads_Outbox {

	const DB_VERSION        = '1';
	const DB_VERSION_OPTION = 'echo5_leads_db_version';
	const CRON_HOOK         = 'echo5_leads_flush';
	const CRON_SCHEDULE     = 'echo5_leads_every_minute';

	const STATUS_QUEUED = 'queued';
	const STATUS_FAILED = 'failed';
	const STATUS_SENT   = 'sent';

	/**
	 * How long a row is held by the process sending it; a process that dies mid-send gives it
	 * back after this.
	 */
	const LOCK_SECONDS = 60;

	/**
	 * How long delivered rows are kept (for the admin's count of sent submissions).
	 */
	const KEEP_SENT_SECONDS = 7 * DAY_IN_SECONDS;

	/**
	 * What enqueue() returns when the database did not take the row.
	 */
	const NOT_STORED = -1;

	/**
	 * Hooks: the cron interval, and the schema and schedule kept in place.
	 */
	public static function register(): void {
		add_filter( 'cron_schedules', array( __CLASS__, 'cron_schedules' ) );
		add_action( 'init', array( __CLASS__, 'maintain' ) );
		// Multisite: a site made while the plugin is network-active gets its table at once, and
		// a deleted site's table goes with the site's own tables.
		add_action( 'wp_initialize_site', array( __CLASS__, 'initialize_site' ), 200 );
		add_filter( 'wpmu_drop_tables', array( __CLASS__, 'drop_tables' ) );
	}

	/**
	 * The table's name.
	 */
	public static function table(): string {
		global $wpdb;
		return $wpdb->prefix . 'echo5_leads_outbox';
	}

	/**
	 * Adds the one-minute schedule the retries run on. The interval is filterable so a test
	 * site can run its cron at every call.
	 *
	 * @param array $schedules WordPress's schedules.
	 */
	public static function cron_schedules( $schedules ): array {
		$schedules = is_array( $schedules ) ? $schedules : array();
		$schedules[ self::CRON_SCHEDULE ] = array(
			'interval' => max( 1, (int) apply_filters( 'echo5_leads_cron_interval', MINUTE_IN_SECONDS ) ),
			'display'  => __( 'Every minute (Echo5 Leads retries)', 'echo5-leads' ),
		);
		return $schedules;
	}

	/**
	 * Creates or upgrades the table and schedules the retry event: on this site, or, when an
	 * administrator network-activates the plugin, on every site of the network (each site has
	 * its own table, options and cron, as each has its own forms).
	 *
	 * @param bool $network_wide Whether the plugin is being network-activated.
	 */
	public static function activate( $network_wide = false ): void {
		self::each_site(
			(bool) $network_wide,
			static function () {
				self::install_schema();
				self::schedule();
			}
		);
	}

	/**
	 * Stops the retry event (on every site when network-deactivated); the queued rows stay
	 * for when the plugin comes back.
	 *
	 * @param bool $network_wide Whether the plugin is being network-deactivated.
	 */
	public static function deactivate( $network_wide = false ): void {
		self::each_site(
			(bool) $network_wide,
			static function () {
				wp_clear_scheduled_hook( self::CRON_HOOK );
			}
		);
	}

	/**
	 * A new site of a network where the plugin is network-active: its table and cron now,
	 * before its first form is submitted.
	 *
	 * @param WP_Site $site The new site.
	 */
	public static function initialize_site( $site ): void {
		if ( ! function_exists( 'is_plugin_active_for_network' ) ) {
			require_once ABSPATH . 'wp-admin/includes/plugin.php';
		}
		if ( ! is_object( $site ) || ! isset( $site->blog_id ) || ! is_plugin_active_for_network( plugin_basename( ECHO5_LEADS_FILE ) ) ) {
			return;
		}
		switch_to_blog( (int) $site->blog_id );
		self::install_schema();
		self::schedule();
		restore_current_blog();
	}

	/**
	 * Adds the outbox table to the tables WordPress drops with a deleted site.
	 *
	 * @param string[] $tables The site's tables.
	 * @return string[]
	 */
	public static function drop_tables( $tables ): array {
		$tables   = is_array( $tables ) ? $tables : array();
		$tables[] = self::table();
		return $tables;
	}

	/**
	 * Runs `$work` on this site, or on every site of the network.
	 *
	 * @param bool     $network_wide Every site.
	 * @param callable $work         What to do on each.
	 */
	private static function each_site( bool $network_wide, callable $work ): void {
		if ( ! $network_wide || ! is_multisite() ) {
			$work();
			return;
		}
		foreach ( get_sites(
			array(
				'fields' => 'ids',
				'number' => 0,
			)
		) as $blog_id ) {
			switch_to_blog( (int) $blog_id );
			$work();
			restore_current_blog();
		}
	}

	/**
	 * Runs on every request: cheap option and cron-array reads, work only when something is
	 * missing (an upgrade that skipped activation, a cron array that lost the event).
	 */
	public static function maintain(): void {
		if ( get_option( self::DB_VERSION_OPTION ) !== self::DB_VERSION ) {
			self::install_schema();
		}
		self::schedule();
	}

	/**
	 * Schedules the recurring flush if it is not scheduled.
	 */
	private static function schedule(): void {
		if ( ! wp_next_scheduled( self::CRON_HOOK ) ) {
			wp_schedule_event( time(), self::CRON_SCHEDULE, self::CRON_HOOK );
		}
	}

	/**
	 * The table, through dbDelta (WordPress's way to create and alter tables).
	 */
	private static function install_schema(): void {
		global $wpdb;
		require_once ABSPATH . 'wp-admin/includes/upgrade.php';
		$table   = self::table();
		$charset = $wpdb->get_charset_collate();
		// dbDelta wants two spaces after PRIMARY KEY and one field per line.
		dbDelta(
			"CREATE TABLE {$table} (
  id bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  idempotency_key varchar(191) NOT NULL,
  source varchar(32) NOT NULL DEFAULT '',
  form_id varchar(191) NOT NULL DEFAULT '',
  form_name varchar(191) NOT NULL DEFAULT '',
  payload longtext NOT NULL,
  status varchar(16) NOT NULL DEFAULT 'queued',
  attempts int(10) unsigned NOT NULL DEFAULT 0,
  next_attempt_at bigint(20) NOT NULL DEFAULT 0,
  locked_until bigint(20) NOT NULL DEFAULT 0,
  expires_at bigint(20) NOT NULL DEFAULT 0,
  last_status smallint(5) unsigned NOT NULL DEFAULT 0,
  last_error text NULL,
  lead_id varchar(64) NOT NULL DEFAULT '',
  created_at bigint(20) NOT NULL DEFAULT 0,
  updated_at bigint(20) NOT NULL DEFAULT 0,
  PRIMARY KEY  (id),
  UNIQUE KEY idempotency_key (idempotency_key),
  KEY status_next (status,next_attempt_at)
) {$charset};"
		);
		// Autoloaded: maintain() reads it on every request, and a non-autoloaded option costs
		// a query each time.
		update_option( self::DB_VERSION_OPTION, self::DB_VERSION, true );
	}

	/**
	 * Stores a submission; no network I/O happens before this returns. A second call with the
	 * same idempotency key (a form plugin firing its hook twice for one entry) stores nothing.
	 *
	 * @param string $idempotency_key Unique per submission.
	 * @param string $source          Which capture path (cf7, wpforms, …).
	 * @param string $form_id         The form's id in its plugin.
	 * @param string $form_name       The form's name.
	 * @param string $payload_json    The exact body to send, every time.
	 * @return int The new row's id, 0 when the key was already stored, or self::NOT_STORED
	 *             when the database refused the row (logged).
	 */
	public static function enqueue( string $idempotency_key, string $source, string $form_id, string $form_name, string $payload_json ): int {
		global $wpdb;
		$now   = time();
		$table = self::table();
		$done  = $wpdb->query(
			$wpdb->prepare(
				"INSERT IGNORE INTO {$table} (idempotency_key, source, form_id, form_name, payload, status, attempts, next_attempt_at, locked_until, expires_at, created_at, updated_at) VALUES (%s, %s, %s, %s, %s, %s, 0, %d, 0, %d, %d, %d)",
				$idempotency_key,
				substr( $source, 0, 32 ),
				substr( $form_id, 0, 191 ),
				mb_substr( $form_name, 0, 191 ),
				$payload_json,
				self::STATUS_QUEUED,
				$now,
				$now + Echo5_Leads_Sender::GIVE_UP_AFTER,
				$now,
				$now
			)
		);
		if ( false === $done ) {
			// The site's log is the only place to tell; the caller tells the visitor.
			error_log( 'echo5-leads: could not store a submission: ' . $wpdb->last_error ); // phpcs:ignore Generic.PHP.ForbiddenFunctions.Found -- see above.
			return self::NOT_STORED;
		}
		if ( 1 !== $done ) {
			return 0;
		}
		return (int) $wpdb->insert_id;
	}

	/**
	 * Takes a row for sending: only one process holds it at a time.
	 *
	 * @param int  $id    Row id.
	 * @param bool $force Take it even when its next attempt is not due (the admin's retry).
	 */
	public static function claim( int $id, bool $force = false ): bool {
		global $wpdb;
		$now   = time();
		$table = self::table();
		$due   = $force ? PHP_INT_MAX : $now;
		$rows  = $wpdb->query(
			$wpdb->prepare(
				"UPDATE {$table} SET locked_until = %d, updated_at = %d WHERE id = %d AND status = %s AND locked_until <= %d AND next_attempt_at <= %d",
				$now + self::LOCK_SECONDS,
				$now,
				$id,
				self::STATUS_QUEUED,
				$now,
				$due
			)
		);
		return 1 === $rows;
	}

	/**
	 * Ids of queued rows whose next attempt is due, oldest first.
	 *
	 * @param int $limit At most this many.
	 * @return int[]
	 */
	public static function due_ids( int $limit ): array {
		global $wpdb;
		$now   = time();
		$table = self::table();
		$ids   = $wpdb->get_col(
			$wpdb->prepare(
				"SELECT id FROM {$table} WHERE status = %s AND next_attempt_at <= %d AND locked_until <= %d ORDER BY next_attempt_at, id LIMIT %d",
				self::STATUS_QUEUED,
				$now,
				$now,
				$limit
			)
		);
		return array_map( 'intval', (array) $ids );
	}

	/**
	 * One row as an associative array, or null.
	 *
	 * @param int $id Row id.
	 */
	public static function get( int $id ): ?array {
		global $wpdb;
		$table = self::table();
		$row   = $wpdb->get_row(
			$wpdb->prepare( "SELECT * FROM {$table} WHERE id = %d", $id ),
			ARRAY_A
		);
		return is_array( $row ) ? $row : null;
	}

	/**
	 * The daemon has the lead.
	 *
	 * @param int    $id      Row id.
	 * @param string $lead_id The daemon's lead id.
	 * @param int    $status  HTTP status.
	 */
	public static function mark_sent( int $id, string $lead_id, int $status ): void {
		self::update(
			$id,
			array(
				'status'       => self::STATUS_SENT,
				'lead_id'      => substr( $lead_id, 0, 64 ),
				'last_status'  => $status,
				'last_error'   => '',
				'locked_until' => 0,
			)
		);
	}

	/**
	 * Try again at `$next`.
	 *
	 * @param int    $id     Row id.
	 * @param int    $next   Unix time of the next attempt.
	 * @param int    $status HTTP status (0 when there was none).
	 * @param string $error  What went wrong.
	 */
	public static function mark_retry( int $id, int $next, int $status, string $error ): void {
		self::update(
			$id,
			array(
				'status'          => self::STATUS_QUEUED,
				'next_attempt_at' => $next,
				'last_status'     => $status,
				'last_error'      => $error,
				'locked_until'    => 0,
			)
		);
	}

	/**
	 * Parked: no more automatic attempts until someone presses retry.
	 *
	 * @param int    $id     Row id.
	 * @param int    $status HTTP status (0 when there was none).
	 * @param string $error  What went wrong (the daemon's message for a 4xx).
	 */
	public static function mark_failed( int $id, int $status, string $error ): void {
		self::update(
			$id,
			array(
				'status'       => self::STATUS_FAILED,
				'last_status'  => $status,
				'last_error'   => $error,
				'locked_until' => 0,
			)
		);
	}

	/**
	 * Counts one more attempt on a row.
	 *
	 * @param int $id Row id.
	 */
	public static function count_attempt( int $id ): void {
		global $wpdb;
		$table = self::table();
		$wpdb->query( $wpdb->prepare( "UPDATE {$table} SET attempts = attempts + 1 WHERE id = %d", $id ) );
	}

	/**
	 * Back to the queue, due now, with a fresh retry window (the admin's retry).
	 *
	 * @param int $id Row id.
	 */
	public static function requeue( int $id ): bool {
		$now = time();
		return self::update(
			$id,
			array(
				'status'          => self::STATUS_QUEUED,
				'next_attempt_at' => $now,
				'expires_at'      => $now + Echo5_Leads_Sender::GIVE_UP_AFTER,
				'locked_until'    => 0,
			)
		);
	}

	/**
	 * Removes a row.
	 *
	 * @param int $id Row id.
	 */
	public static function delete( int $id ): bool {
		global $wpdb;
		return 1 === $wpdb->delete( self::table(), array( 'id' => $id ), array( '%d' ) );
	}

	/**
	 * Forgets delivered rows after a while.
	 */
	public static function purge_sent(): void {
		global $wpdb;
		$table = self::table();
		$wpdb->query(
			$wpdb->prepare(
				"DELETE FROM {$table} WHERE status = %s AND updated_at < %d",
				self::STATUS_SENT,
				time() - self::KEEP_SENT_SECONDS
			)
		);
	}

	/**
	 * Rows of one status for the admin page, newest first.
	 *
	 * @param string $status Status.
	 * @param int    $limit  Page size.
	 * @param int    $offset Offset.
	 */
	public static function list_by_status( string $status, int $limit, int $offset ): array {
		global $wpdb;
		$table = self::table();
		$rows  = $wpdb->get_results(
			$wpdb->prepare(
				"SELECT id, idempotency_key, source, form_id, form_name, payload, status, attempts, next_attempt_at, expires_at, last_status, last_error, created_at FROM {$table} WHERE status = %s ORDER BY id DESC LIMIT %d OFFSET %d",
				$status,
				$limit,
				$offset
			),
			ARRAY_A
		);
		return is_array( $rows ) ? $rows : array();
	}

	/**
	 * Row counts by status.
	 *
	 * @return array<string,int>
	 */
	public static function counts(): array {
		global $wpdb;
		$table = self::table();
		$out   = array(
			self::STATUS_QUEUED => 0,
			self::STATUS_FAILED => 0,
			self::STATUS_SENT   => 0,
		);
		$rows  = $wpdb->get_results( "SELECT status, COUNT(*) AS n FROM {$table} GROUP BY status", ARRAY_A );
		foreach ( (array) $rows as $row ) {
			$out[ (string) $row['status'] ] = (int) $row['n'];
		}
		return $out;
	}

	/**
	 * Updates columns of one row, always touching updated_at.
	 *
	 * @param int   $id     Row id.
	 * @param array $fields Column => value.
	 */
	private static function update( int $id, array $fields ): bool {
		global $wpdb;
		$fields['updated_at'] = time();
		$formats              = array();
		foreach ( $fields as $value ) {
			$formats[] = is_int( $value ) ? '%d' : '%s';
		}
		return false !== $wpdb->update( self::table(), $fields, array( 'id' => $id ), $formats, array( '%d' ) );
	}
}
