<?php
/**
 * Removes everything the plugin stored: its outbox table (queued and failed submissions
 * included), its options and its cron event — on every site of a multisite network, since
 * each site that had the plugin active has its own.
 *
 * @package Echo5_Leads
 */

if ( ! defined( 'WP_UNINSTALL_PLUGIN' ) ) {
	exit;
}

/**
 * Removes the plugin's table, options, transients and cron event of the current site.
 */
function echo5_leads_uninstall_site() {
	global $wpdb;
	wp_clear_scheduled_hook( 'echo5_leads_flush' );
	foreach ( array( 'echo5_leads_url', 'echo5_leads_api_key', 'echo5_leads_db_version', 'echo5_leads_site_id' ) as $option ) {
		delete_option( $option );
	}
	// The test-connection results kept per user for a few minutes.
	$wpdb->query( $wpdb->prepare( "DELETE FROM {$wpdb->options} WHERE option_name LIKE %s OR option_name LIKE %s", $wpdb->esc_like( '_transient_echo5_leads_' ) . '%', $wpdb->esc_like( '_transient_timeout_echo5_leads_' ) . '%' ) );
	$wpdb->query( "DROP TABLE IF EXISTS {$wpdb->prefix}echo5_leads_outbox" );
}

if ( is_multisite() ) {
	foreach ( get_sites(
		array(
			'fields' => 'ids',
			'number' => 0,
		)
	) as $echo5_leads_blog_id ) {
		switch_to_blog( (int) $echo5_leads_blog_id );
		echo5_leads_uninstall_site();
		restore_current_blog();
	}
} else {
	echo5_leads_uninstall_site();
}
