<?php
/**
 * The `[echo5_form]` shortcode: a plain contact form (name, e-mail, phone, message) whose
 * submissions go through the same outbox as every other form.
 *
 * @package Echo5_Leads
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * Renders the form and takes its submissions through admin-post.php.
 */
final class Echo5_Leads_Shortcode {

	const ACTION = 'echo5_leads_submit';

	/**
	 * The query argument the redirect after a submission carries.
	 */
	const RESULT_ARG = 'echo5_leads';

	/**
	 * Each form on a page gets its own number, for ids and the anchor the redirect returns to.
	 *
	 * @var int
	 */
	private static int $count = 0;

	/**
	 * Hooks the shortcode and the submit handler (for visitors and for logged-in users).
	 */
	public static function register(): void {
		add_shortcode( 'echo5_form', array( __CLASS__, 'render' ) );
		add_action( 'admin_post_nopriv_' . self::ACTION, array( __CLASS__, 'handle' ) );
		add_action( 'admin_post_' . self::ACTION, array( __CLASS__, 'handle' ) );
	}

	/**
	 * The form's HTML.
	 *
	 * @param array|string $atts `name` (the form's name, sent as form_name), `phone` (yes/no),
	 *                           `button` (the button's text), `success` (the thank-you text).
	 */
	public static function render( $atts ): string {
		$atts = shortcode_atts(
			array(
				'name'    => __( 'Website form', 'echo5-leads' ),
				'phone'   => 'yes',
				'button'  => __( 'Send', 'echo5-leads' ),
				'success' => __( 'Thank you! We will be in touch soon.', 'echo5-leads' ),
			),
			$atts,
			'echo5_form'
		);
		++self::$count;
		$n      = self::$count;
		$anchor = 'echo5-form-' . $n;
		$result = isset( $_GET[ self::RESULT_ARG ] ) ? sanitize_key( wp_unslash( $_GET[ self::RESULT_ARG ] ) ) : ''; // phpcs:ignore Echo5WP.Security.NonceVerification -- only picks which message to show.
		$out    = '<div class="echo5-form" id="' . esc_attr( $anchor ) . '">';
		if ( 'sent' === $result ) {
			$out .= '<p class="echo5-form-success" role="status">' . esc_html( $atts['success'] ) . '</p>';
		} elseif ( 'invalid' === $result ) {
			$out .= '<p class="echo5-form-error" role="alert">' . esc_html__( 'Please give your name and a valid e-mail address.', 'echo5-leads' ) . '</p>';
		} elseif ( 'error' === $result ) {
			$out .= '<p class="echo5-form-error" role="alert">' . esc_html__( 'Sorry, your message could not be saved. Please try again in a moment.', 'echo5-leads' ) . '</p>';
		}
		$out .= '<form method="post" action="' . esc_url( admin_url( 'admin-post.php' ) ) . '">';
		$out .= '<input type="hidden" name="action" value="' . esc_attr( self::ACTION ) . '" />';
		$out .= '<input type="hidden" name="echo5_form_name" value="' . esc_attr( $atts['name'] ) . '" />';
		$out .= '<input type="hidden" name="echo5_anchor" value="' . esc_attr( $anchor ) . '" />';
		// The page's URL; the attribution script replaces it with the address bar's (a cached
		// page keeps the first visitor's query string otherwise).
		$out .= '<input type="hidden" name="echo5_page_url" value="' . esc_attr( self::current_url() ) . '" />';
		$out .= wp_nonce_field( self::ACTION, '_echo5_nonce', false, false );
		$out .= self::input( $n, 'echo5_name', __( 'Name', 'echo5-leads' ), 'text', true, 'name' );
		$out .= self::input( $n, 'echo5_email', __( 'E-mail', 'echo5-leads' ), 'email', true, 'email' );
		if ( 'no' !== strtolower( (string) $atts['phone'] ) ) {
			$out .= self::input( $n, 'echo5_phone', __( 'Phone', 'echo5-leads' ), 'tel', false, 'tel' );
		}
		$out .= '<p><label for="echo5_message-' . esc_attr( (string) $n ) . '">' . esc_html__( 'Message', 'echo5-leads' ) . '</label><br />';
		$out .= '<textarea id="echo5_message-' . esc_attr( (string) $n ) . '" name="echo5_message" rows="5" maxlength="5000"></textarea></p>';
		// A honeypot: hidden from people, filled by bots.
		$out .= '<p style="position:absolute;left:-9999px" aria-hidden="true"><label>' . esc_html__( 'Leave this empty', 'echo5-leads' ) . ' <input type="text" name="echo5_website" value="" tabindex="-1" autocomplete="off" /></label></p>';
		$out .= '<p><button type="submit">' . esc_html( $atts['button'] ) . '</button></p>';
		$out .= '</form></div>';
		return $out;
	}

	/**
	 * One labelled input.
	 *
	 * @param int    $n            The form's number.
	 * @param string $name         Input name.
	 * @param string $label        Label text.
	 * @param string $type         Input type.
	 * @param bool   $required     Required.
	 * @param string $autocomplete Autocomplete token.
	 */
	private static function input( int $n, string $name, string $label, string $type, bool $required, string $autocomplete ): string {
		$id = $name . '-' . $n;
		return sprintf(
			'<p><label for="%1$s">%2$s</label><br /><input id="%1$s" type="%3$s" name="%4$s" autocomplete="%5$s" maxlength="300"%6$s /></p>',
			esc_attr( $id ),
			esc_html( $label ),
			esc_attr( $type ),
			esc_attr( $name ),
			esc_attr( $autocomplete ),
			$required ? ' required' : ''
		);
	}

	/**
	 * The URL of the page being rendered.
	 */
	private static function current_url(): string {
		$uri = isset( $_SERVER['REQUEST_URI'] ) && is_string( $_SERVER['REQUEST_URI'] ) ? esc_url_raw( wp_unslash( $_SERVER['REQUEST_URI'] ) ) : '/';
		return home_url( $uri );
	}

	/**
	 * A posted text field, cleaned.
	 *
	 * @param string $name      Field name.
	 * @param bool   $multiline Keep line breaks.
	 */
	private static function posted( string $name, bool $multiline = false ): string {
		// phpcs:disable Echo5WP.Security.NonceVerification -- handle() checks the nonce first.
		if ( ! isset( $_POST[ $name ] ) || ! is_string( $_POST[ $name ] ) ) {
			return '';
		}
		$value = wp_unslash( $_POST[ $name ] );
		// phpcs:enable
		return $multiline ? sanitize_textarea_field( $value ) : sanitize_text_field( $value );
	}

	/**
	 * Takes a submission: stores it in the outbox, then sends the visitor back to the page.
	 *
	 * The nonce is checked for logged-in users only: a visitor's nonce goes stale when a page
	 * cache serves the form for longer than a day, and refusing that visitor would lose the
	 * lead this plugin exists to keep. The honeypot guards anonymous submissions.
	 */
	public static function handle(): void {
		if ( is_user_logged_in() ) {
			if ( ! isset( $_POST['_echo5_nonce'] ) || ! wp_verify_nonce( sanitize_text_field( wp_unslash( $_POST['_echo5_nonce'] ) ), self::ACTION ) ) {
				wp_die( esc_html__( 'This form has expired. Please reload the page and send it again.', 'echo5-leads' ), 403 );
			}
		}
		$page_url = esc_url_raw( self::posted( 'echo5_page_url' ) );
		if ( '' === $page_url || ! self::same_site( $page_url ) ) {
			$page_url = Echo5_Leads_Context::referer_header();
		}
		$back   = '' !== $page_url && self::same_site( $page_url ) ? $page_url : home_url( '/' );
		$anchor = sanitize_html_class( self::posted( 'echo5_anchor' ), 'echo5-form-1' );
		$name   = self::posted( 'echo5_name' );
		$email  = sanitize_email( self::posted( 'echo5_email' ) );
		$phone  = self::posted( 'echo5_phone' );

		// A filled honeypot: answered like a success, stored nowhere.
		if ( '' !== self::posted( 'echo5_website' ) ) {
			wp_safe_redirect( add_query_arg( self::RESULT_ARG, 'sent', $back ) . '#' . $anchor, 303 );
			exit;
		}
		if ( '' === $name || ( '' === $email && '' === $phone ) || ( '' !== self::posted( 'echo5_email' ) && ! is_email( $email ) ) ) {
			wp_safe_redirect( add_query_arg( self::RESULT_ARG, 'invalid', $back ) . '#' . $anchor, 303 );
			exit;
		}
		$stored = Echo5_Leads_Capture::store(
			array(
				'source'    => 'shortcode',
				'form_id'   => 'echo5_form',
				'form_name' => self::posted( 'echo5_form_name' ),
				'entry_id'  => '',
				'page_url'  => $page_url,
			),
			array(
				array(
					'key'    => 'name',
					'label'  => __( 'Name', 'echo5-leads' ),
					'type'   => 'text',
					'value'  => $name,
					'target' => 'name',
				),
				array(
					'key'    => 'email',
					'label'  => __( 'E-mail', 'echo5-leads' ),
					'type'   => 'email',
					'value'  => $email,
					'target' => 'email',
				),
				array(
					'key'    => 'phone',
					'label'  => __( 'Phone', 'echo5-leads' ),
					'type'   => 'tel',
					'value'  => $phone,
					'target' => 'phone',
				),
				array(
					'key'    => 'message',
					'label'  => __( 'Message', 'echo5-leads' ),
					'type'   => 'textarea',
					'value'  => self::posted( 'echo5_message', true ),
					'target' => 'message',
				),
			)
		);
		// Only a stored submission is a success: the visitor is never thanked for a lead that
		// exists nowhere (the database refused the row).
		$result = Echo5_Leads_Outbox::NOT_STORED === $stored ? 'error' : 'sent';
		// The immediate send runs at shutdown: under PHP-FPM after the redirect has reached the
		// visitor, elsewhere just before.
		wp_safe_redirect( add_query_arg( self::RESULT_ARG, $result, $back ) . '#' . $anchor, 303 );
		exit;
	}

	/**
	 * Whether a URL is on this site's host.
	 *
	 * @param string $url URL.
	 */
	private static function same_site( string $url ): bool {
		$host = wp_parse_url( $url, PHP_URL_HOST );
		return is_string( $host ) && strtolower( $host ) === strtolower( (string) wp_parse_url( home_url(), PHP_URL_HOST ) );
	}
}
