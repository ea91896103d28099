<?php
/**
 * Test site only (copied into wp-content/mu-plugins by run.py, never shipped): retries and
 * WP-Cron run at every call instead of every minute, so a test need not wait minutes. A
 * Retry-After the daemon sends is still honoured as it is. Also a plain form handler with
 * no plugin behind it, the baseline of the latency measurement.
 *
 * @package Echo5_Leads
 */

add_filter(
	'echo5_leads_retry_delay',
	static function ( $delay, $attempts, $retry_after ) {
		return null === $retry_after ? 1 : $delay;
	},
	10,
	3
);
add_filter(
	'echo5_leads_cron_interval',
	static function () {
		return 1;
	}
);

/**
 * The same form post without the plugin: WordPress answers it with a redirect, storing and
 * sending nothing.
 */
function echo5_test_plain_form() {
	wp_safe_redirect( add_query_arg( 'echo5_leads', 'sent', home_url( '/' ) ), 303 );
	exit;
}
add_action( 'admin_post_nopriv_echo5_test_plain', 'echo5_test_plain_form' );
