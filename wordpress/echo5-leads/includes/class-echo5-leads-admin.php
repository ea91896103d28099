<?php
/**
 * The admin menu and the outbox page: queued and failed submissions, with retry and delete.
 *
 * @package Echo5_Leads
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * The "Echo5 Leads" menu: Outbox and Settings.
 */
final class Echo5_Leads_Admin {

	const PAGE          = 'echo5-leads';
	const RETRY_ACTION  = 'echo5_leads_retry';
	const DELETE_ACTION = 'echo5_leads_delete';
	const CAPABILITY    = 'manage_options';
	const PER_PAGE      = 50;

	/**
	 * Hooks the menu, the row actions and the notice about failed submissions.
	 */
	public static function register(): void {
		add_action( 'admin_menu', array( __CLASS__, 'menu' ) );
		add_action( 'admin_post_' . self::RETRY_ACTION, array( __CLASS__, 'handle_retry' ) );
		add_action( 'admin_post_' . self::DELETE_ACTION, array( __CLASS__, 'handle_delete' ) );
		add_action( 'admin_notices', array( __CLASS__, 'failed_notice' ) );
	}

	/**
	 * The menu and its two pages.
	 */
	public static function menu(): void {
		add_menu_page(
			__( 'Echo5 Leads outbox', 'echo5-leads' ),
			__( 'Echo5 Leads', 'echo5-leads' ),
			self::CAPABILITY,
			self::PAGE,
			array( __CLASS__, 'render_outbox' ),
			'dashicons-email-alt',
			80
		);
		add_submenu_page( self::PAGE, __( 'Echo5 Leads outbox', 'echo5-leads' ), __( 'Outbox', 'echo5-leads' ), self::CAPABILITY, self::PAGE, array( __CLASS__, 'render_outbox' ) );
		add_submenu_page( self::PAGE, __( 'Echo5 Leads settings', 'echo5-leads' ), __( 'Settings', 'echo5-leads' ), self::CAPABILITY, Echo5_Leads_Settings::PAGE, array( 'Echo5_Leads_Settings', 'render_page' ) );
	}

	/**
	 * Tells administrators, on every admin page, that submissions are parked as failed.
	 */
	public static function failed_notice(): void {
		if ( ! current_user_can( self::CAPABILITY ) ) {
			return;
		}
		$screen = function_exists( 'get_current_screen' ) ? get_current_screen() : null;
		if ( $screen && str_contains( (string) $screen->id, self::PAGE ) ) {
			return;
		}
		$failed = Echo5_Leads_Outbox::counts()[ Echo5_Leads_Outbox::STATUS_FAILED ];
		if ( $failed < 1 ) {
			return;
		}
		printf(
			'<div class="notice notice-error"><p>%1$s <a href="%2$s">%3$s</a></p></div>',
			esc_html(
				sprintf(
					/* translators: %d: number of failed submissions. */
					_n( 'Echo5 Leads: %d form submission could not be delivered.', 'Echo5 Leads: %d form submissions could not be delivered.', $failed, 'echo5-leads' ),
					$failed
				)
			),
			esc_url( admin_url( 'admin.php?page=' . self::PAGE ) ),
			esc_html__( 'Open the outbox', 'echo5-leads' )
		);
	}

	/**
	 * The outbox page.
	 */
	public static function render_outbox(): void {
		if ( ! current_user_can( self::CAPABILITY ) ) {
			return;
		}
		$counts = Echo5_Leads_Outbox::counts();
		echo '<div class="wrap"><h1>' . esc_html__( 'Echo5 Leads outbox', 'echo5-leads' ) . '</h1>';
		self::render_result();
		if ( ! Echo5_Leads_Settings::configured() ) {
			printf(
				'<div class="notice notice-warning"><p>%1$s <a href="%2$s">%3$s</a></p></div>',
				esc_html__( 'The daemon URL or API key is not set: submissions wait here until they are.', 'echo5-leads' ),
				esc_url( admin_url( 'admin.php?page=' . Echo5_Leads_Settings::PAGE ) ),
				esc_html__( 'Settings', 'echo5-leads' )
			);
		}
		printf(
			'<p id="echo5-leads-counts">%s</p>',
			esc_html(
				sprintf(
					/* translators: 1: queued, 2: failed, 3: delivered in the last 7 days. */
					__( 'Queued: %1$d · Failed: %2$d · Delivered (last 7 days): %3$d', 'echo5-leads' ),
					$counts[ Echo5_Leads_Outbox::STATUS_QUEUED ],
					$counts[ Echo5_Leads_Outbox::STATUS_FAILED ],
					$counts[ Echo5_Leads_Outbox::STATUS_SENT ]
				)
			)
		);
		self::render_table( Echo5_Leads_Outbox::STATUS_FAILED, __( 'Failed', 'echo5-leads' ), __( 'The daemon refused these; they are not retried by themselves. Fix the cause (often the API key) and retry.', 'echo5-leads' ) );
		self::render_table(
			Echo5_Leads_Outbox::STATUS_QUEUED,
			__( 'Queued', 'echo5-leads' ),
			sprintf(
				/* translators: %d: number of days. */
				__( 'Waiting for their next attempt; retried for %d days.', 'echo5-leads' ),
				intdiv( Echo5_Leads_Sender::GIVE_UP_AFTER, DAY_IN_SECONDS )
			)
		);
		echo '</div>';
	}

	/**
	 * One table of rows of a status.
	 *
	 * @param string $status      Status.
	 * @param string $title       Heading.
	 * @param string $description Text under the heading.
	 */
	private static function render_table( string $status, string $title, string $description ): void {
		$rows = Echo5_Leads_Outbox::list_by_status( $status, self::PER_PAGE, 0 );
		echo '<h2>' . esc_html( $title ) . '</h2><p class="description">' . esc_html( $description ) . '</p>';
		if ( array() === $rows ) {
			echo '<p>' . esc_html__( 'None.', 'echo5-leads' ) . '</p>';
			return;
		}
		echo '<table class="widefat striped echo5-leads-' . esc_attr( $status ) . '"><thead><tr>';
		foreach ( array( __( 'Submitted', 'echo5-leads' ), __( 'Form', 'echo5-leads' ), __( 'Contact', 'echo5-leads' ), __( 'Attempts', 'echo5-leads' ), __( 'Next attempt', 'echo5-leads' ), __( 'Last error', 'echo5-leads' ), __( 'Actions', 'echo5-leads' ) ) as $heading ) {
			echo '<th scope="col">' . esc_html( $heading ) . '</th>';
		}
		echo '</tr></thead><tbody>';
		foreach ( $rows as $row ) {
			$id      = (int) $row['id'];
			$payload = json_decode( (string) $row['payload'], true );
			$payload = is_array( $payload ) ? $payload : array();
			$contact = trim( implode( ' · ', array_filter( array( (string) ( $payload['name'] ?? '' ), (string) ( $payload['email'] ?? '' ), (string) ( $payload['phone'] ?? '' ) ) ) ) );
			$next    = Echo5_Leads_Outbox::STATUS_QUEUED === $status ? wp_date( 'Y-m-d H:i:s', (int) $row['next_attempt_at'] ) : '—';
			echo '<tr id="echo5-leads-row-' . esc_attr( (string) $id ) . '">';
			echo '<td>' . esc_html( (string) wp_date( 'Y-m-d H:i:s', (int) $row['created_at'] ) ) . '</td>';
			echo '<td>' . esc_html( trim( (string) $row['form_name'] . ' (' . (string) $row['source'] . ')' ) ) . '</td>';
			echo '<td>' . esc_html( $contact ) . '</td>';
			echo '<td>' . esc_html( (string) (int) $row['attempts'] ) . '</td>';
			echo '<td>' . esc_html( (string) $next ) . '</td>';
			echo '<td class="echo5-leads-error">' . esc_html( (string) $row['last_error'] ) . '</td>';
			echo '<td>';
			self::row_button( self::RETRY_ACTION, $id, __( 'Retry now', 'echo5-leads' ), 'button-primary' );
			self::row_button( self::DELETE_ACTION, $id, __( 'Delete', 'echo5-leads' ), 'button-link-delete', __( 'Delete this submission? The lead will not reach Echo5.', 'echo5-leads' ) );
			echo '</td></tr>';
		}
		echo '</tbody></table>';
	}

	/**
	 * A POST button for one row, with its own nonce.
	 *
	 * @param string $action  admin-post action.
	 * @param int    $id      Row id.
	 * @param string $label   Button text.
	 * @param string $class   Button class.
	 * @param string $confirm A confirmation question, or ''.
	 */
	private static function row_button( string $action, int $id, string $label, string $class, string $confirm = '' ): void {
		$onsubmit = '' !== $confirm ? ' onsubmit="return window.confirm(' . esc_attr( (string) wp_json_encode( $confirm ) ) . ');"' : '';
		echo '<form method="post" action="' . esc_url( admin_url( 'admin-post.php' ) ) . '" style="display:inline"' . $onsubmit . '>'; // phpcs:ignore Echo5WP.Security.EscapeOutput -- $onsubmit is built from esc_attr above.
		echo '<input type="hidden" name="action" value="' . esc_attr( $action ) . '" />';
		echo '<input type="hidden" name="id" value="' . esc_attr( (string) $id ) . '" />';
		wp_nonce_field( $action . '_' . $id );
		echo '<button type="submit" class="button ' . esc_attr( $class ) . '">' . esc_html( $label ) . '</button> ';
		echo '</form>';
	}

	/**
	 * The row id of a row action, after its capability and nonce checks.
	 *
	 * @param string $action The action (its nonce is `action_id`).
	 */
	private static function checked_row_id( string $action ): int {
		if ( ! current_user_can( self::CAPABILITY ) ) {
			wp_die( esc_html__( 'You are not allowed to do this.', 'echo5-leads' ), 403 );
		}
		$id = isset( $_POST['id'] ) ? absint( wp_unslash( $_POST['id'] ) ) : 0; // phpcs:ignore Echo5WP.Security.NonceVerification -- the nonce names the id, checked on the next line.
		check_admin_referer( $action . '_' . $id );
		return $id;
	}

	/**
	 * Retry: back to the queue with a fresh retry window, and one attempt right now.
	 */
	public static function handle_retry(): void {
		$id = self::checked_row_id( self::RETRY_ACTION );
		$outcome = 'skipped';
		if ( Echo5_Leads_Outbox::requeue( $id ) ) {
			$outcome = Echo5_Leads_Sender::attempt( $id, Echo5_Leads_Sender::CRON_TIMEOUT, true );
		}
		self::back( 'retry-' . $outcome );
	}

	/**
	 * Delete.
	 */
	public static function handle_delete(): void {
		$id = self::checked_row_id( self::DELETE_ACTION );
		self::back( Echo5_Leads_Outbox::delete( $id ) ? 'deleted' : 'missing' );
	}

	/**
	 * Back to the outbox page with a result to show.
	 *
	 * @param string $result Result code.
	 */
	private static function back( string $result ): void {
		wp_safe_redirect( add_query_arg( 'echo5_result', $result, admin_url( 'admin.php?page=' . self::PAGE ) ) );
		exit;
	}

	/**
	 * The notice of the last row action.
	 */
	private static function render_result(): void {
		$result   = isset( $_GET['echo5_result'] ) ? sanitize_key( wp_unslash( $_GET['echo5_result'] ) ) : ''; // phpcs:ignore Echo5WP.Security.NonceVerification -- only picks a message.
		$messages = array(
			'retry-sent'    => array( 'success', __( 'Delivered.', 'echo5-leads' ) ),
			'retry-retry'   => array( 'warning', __( 'Not delivered yet; it stays queued and is retried.', 'echo5-leads' ) ),
			'retry-failed'  => array( 'error', __( 'The daemon refused it again; see the error below.', 'echo5-leads' ) ),
			'retry-skipped' => array( 'warning', __( 'That submission is being sent right now or is gone.', 'echo5-leads' ) ),
			'deleted'       => array( 'success', __( 'Deleted.', 'echo5-leads' ) ),
			'missing'       => array( 'warning', __( 'That submission is gone.', 'echo5-leads' ) ),
		);
		if ( ! isset( $messages[ $result ] ) ) {
			return;
		}
		printf(
			'<div class="notice notice-%1$s is-dismissible" id="echo5-leads-result"><p>%2$s</p></div>',
			esc_attr( $messages[ $result ][0] ),
			esc_html( $messages[ $result ][1] )
		);
	}
}
