<?php
/**
 * Removes everything the plugin stored: its outbox table (queued and failed submissions
 * included), its options and its cron event.
 *
 * @package Echo5_Leads
 */

if ( ! defined( 'WP_UNINSTALL_PLUGIN' ) ) {
	exit;
}

global $wpdb;

wp_clear_scheduled_hook( 'echo5_leads_flush' );
foreach ( array( 'echo5_leads_url', 'echo5_leads_api_key', 'echo5_leads_db_version', 'echo5_leads_site_id' ) as $echo5_leads_option ) {
	delete_option( $echo5_leads_option );
}
// The test-connection results kept per user for a few minutes.
$wpdb->query( $wpdb->prepare( "DELETE FROM {$wpdb->options} WHERE option_name LIKE %s OR option_name LIKE %s", $wpdb->esc_like( '_transient_echo5_leads_' ) . '%', $wpdb->esc_like( '_transient_timeout_echo5_leads_' ) . '%' ) );
$wpdb->query( "DROP TABLE IF EXISTS {$wpdb->prefix}echo5_leads_outbox" );
